"""The record's field table (features/ssmf_record.h, printed by dump_record_fields) against
three views written independently of it:

- h5py's dtype of /packets in a dataset `ssmflow extract` wrote from a real capture: the
  same names in the same order, offsets, element sizes, unsigned little-endian, arrays;
- the Python consumer's RECORD_DTYPE (python/ssmflow_consumer/records.py), likewise;
- ssmflow-formats(5)'s table of the record: offset, size and name of each field.
And the table itself: C type names that say the size, fields that tile the record.

usage: test_record_fields.py DUMP_RECORD_FIELDS SSMFLOW DATA_DIR SRC_DIR
"""
import os
import re
import subprocess
import sys

import h5py

DUMP, SSMFLOW, DATA, SRC = sys.argv[1:5]
sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(SRC, "python"))
from common import extract, tmpdir  # noqa: E402
from ssmflow_consumer.records import RECORD_DTYPE  # noqa: E402

CAPTURE = "traffic/nDPI/tests/cfgs/default/pcap/1kxun.pcap"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def table():
    out = subprocess.run([DUMP], capture_output=True, text=True, check=True).stdout
    lines = [line.split("\t") for line in out.splitlines()]
    size = int(lines[0][1])
    rows = [{"name": r[0], "type": r[1], "offset": int(r[2]), "size": int(r[3]),
             "count": int(r[4]), "doc": r[5]} for r in lines[1:]]
    return size, rows


def check_table(size, rows):
    at = 0
    for r in rows:
        check(r["offset"] == at, f"{r['name']}: offset {r['offset']}, the previous field ends at {at}")
        check(r["type"] == f"uint{8 * r['size']}_t", f"{r['name']}: type {r['type']}, size {r['size']}")
        check(r["doc"].strip() != "", f"{r['name']}: no doc string")
        at = r["offset"] + r["size"] * r["count"]
    check(at == size, f"the fields end at {at}, the record is {size} bytes")


def check_dtype(what, dt, size, rows):
    check(dt.itemsize == size, f"{what}: itemsize {dt.itemsize}, the table says {size}")
    check(list(dt.names) == [r["name"] for r in rows],
          f"{what}: fields {list(dt.names)} vs the table's {[r['name'] for r in rows]}")
    for r in rows:
        if r["name"] not in dt.fields:
            continue
        ft, off = dt.fields[r["name"]][:2]
        base, shape = (ft.subdtype if ft.subdtype else (ft, ()))
        check(off == r["offset"], f"{what}.{r['name']}: offset {off} vs {r['offset']}")
        check(base.kind == "u" and base.itemsize == r["size"] and base.byteorder in "<|=",
              f"{what}.{r['name']}: element {base.str} vs {r['type']}")
        want = () if r["count"] == 1 else (r["count"],)
        check(tuple(shape) == want, f"{what}.{r['name']}: shape {shape} vs {want}")


def check_man(rows):
    text = open(os.path.join(SRC, "man", "ssmflow-formats.5")).read()
    part = text[text.index(".SH THE PER-PACKET RECORD"):]
    body = part[part.index(".TS"):part.index(".TE")]
    man = [tuple(line.split("\t")[:3]) for line in body.splitlines()
           if re.match(r"\d+\t\d+\t\w+\t", line)]
    want = [(str(r["offset"]), str(r["size"] * r["count"]), r["name"]) for r in rows]
    check(man == want, f"ssmflow-formats(5) record table {man} vs the table {want}")


def main():
    size, rows = table()
    check(len(rows) > 0, "empty table")
    check_table(size, rows)
    with tmpdir() as d:
        out = os.path.join(d, "x.h5")
        extract(SSMFLOW, [os.path.join(DATA, CAPTURE)], out)
        with h5py.File(out, "r") as f:
            check(len(f["packets"]) > 0, "no packets extracted")
            check_dtype("/packets", f["packets"].dtype, size, rows)
    check_dtype("RECORD_DTYPE", RECORD_DTYPE, size, rows)
    check_man(rows)
    if failures:
        sys.exit(1)
    print(f"record fields: {len(rows)} rows match h5py's /packets, RECORD_DTYPE and "
          "ssmflow-formats(5)")


main()
