#!/usr/bin/env python3
"""score's JSON lines against the mapping table in ssmflow-score(1) and the CSV output.

- every key a record has is a row of the man page's table, and every row (but vlan, only
  with a VLAN tag, and packets, only with --per-packet) is in every record;
- each mapped key holds the value of its CSV column: timestamps are Python's own ISO 8601
  rendering (datetime, UTC) of the CSV's seconds, the *_ns integers are exact and equal
  HDF5's first_ts_ns/last_ts_ns, proto is Suricata's name of the protocol number;
- per-packet timestamps equal OUT.packets.csv's.

usage: test_jsonl.py SSMFLOW DATA_DIR SOURCE_DIR
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

import h5py

CAPTURES = [
    "traffic/nDPI/tests/cfgs/default/pcap/syslog.pcap",  # IPv4 UDP/TCP with VLAN tags
    "robustness/arkime/tests/pcap/v6.pcap",  # IPv6 TCP, UDP, ICMPv6
    "robustness/suricata-verify/tests/bug-4663-03/icmp_and_ssh.pcap",  # IPv4 ICMP
]
# Suricata EVE's proto names (IANA keywords as Suricata prints them)
EVE_PROTO = {6: "TCP", 17: "UDP", 1: "ICMP", 58: "IPv6-ICMP", 132: "SCTP"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, file=sys.stderr)


def man_table(src):
    """{JSON key: CSV column} from the .TS table of ssmflow-score(1)."""
    text = open(os.path.join(src, "man", "ssmflow-score.1")).read()
    body = text.split(".TS\n", 1)[1].split(".TE\n", 1)[0].splitlines()
    rows = [r.split("\t") for r in body if "\t" in r][1:]  # past the header row
    return {r[0].replace("\\-", "-"): r[1].replace("\\-", "-") for r in rows}


def iso(sec_text):
    """'1234.000000001' (CSV seconds) as ISO 8601 UTC with ns, rendered by datetime."""
    sec, frac = sec_text.split(".")
    day = datetime.fromtimestamp(int(sec), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{day}.{frac}Z", int(sec) * 1_000_000_000 + int(frac)


def flat_keys(o):
    keys = set()
    for k, v in o.items():
        if k == "flow":
            keys |= {f"flow.{x}" for x in v}
        else:
            keys.add(k)
    return keys


def check_capture(ssmflow, cap, table, td):
    outs = {e: os.path.join(td, "s." + e) for e in ("jsonl", "csv", "h5")}
    for p in outs.values():
        r = subprocess.run([ssmflow, "score", "-q", "--per-packet", "-o", p, cap],
                           capture_output=True, text=True)
        if r.returncode:
            fail(f"score {cap} -o {p}: exit {r.returncode}: {r.stderr.strip()}")
            return 0
    rows = {int(r["flow_id"]): r for r in csv.DictReader(open(outs["csv"]))}
    pk_csv = {}
    for r in csv.DictReader(open(outs["csv"] + ".packets.csv")):
        pk_csv.setdefault(int(r["flow_id"]), []).append(r["ts"])
    with h5py.File(outs["h5"]) as f:
        h5 = {int(r["flow_id"]): r for r in f["flows"][:]}
    n = 0
    for line in open(outs["jsonl"]):
        o = json.loads(line)
        fid = o["flow_id"]
        c, h = rows[fid], h5[fid]
        keys = flat_keys(o)
        for k in keys - set(table):
            fail(f"flow {fid}: key {k} is not in ssmflow-score(1)'s table")
        for k in set(table) - keys - {"vlan", "packets"}:
            fail(f"flow {fid}: key {k} of ssmflow-score(1)'s table is missing")
        t0, ns0 = iso(c["first_ts"])
        t1, ns1 = iso(c["last_ts"])
        fl = o["flow"]
        want = {
            "timestamp": t0, "flow.start": t0, "flow.end": t1,
            "flow.start_ns": ns0, "flow.end_ns": ns1,
            "src_ip": c["src_addr"], "dest_ip": c["dst_addr"],
            "src_port": int(c["src_port"]), "dest_port": int(c["dst_port"]),
            "proto": EVE_PROTO.get(int(c["protocol"]), c["protocol"]),
            "community_id": c["community_id"] or None,
            "flow.pkts_toserver": int(c["fwd_packets"]),
            "flow.pkts_toclient": int(c["bwd_packets"]),
            "flow.bytes_toserver": int(c["fwd_bytes"]),
            "flow.bytes_toclient": int(c["bwd_bytes"]),
            "flow.age": int(c["last_ts"].split(".")[0]) - int(c["first_ts"].split(".")[0]),
            "flow.end_reason": c["end_reason"], "event_type": "flow",
            "label": c["label"] or None, "flagged": c["flagged"] == "1",
            "packets_scored": int(c["packets_scored"]),
            "max_surprise_index": int(c["max_surprise_index"]),
        }
        got = {k: (fl[k[5:]] if k.startswith("flow.") else o[k]) for k in want}
        for k in want:
            if got[k] != want[k] or type(got[k]) is not type(want[k]):
                fail(f"flow {fid}: {k} = {got[k]!r}, expected {want[k]!r}")
        if (fl["start_ns"], fl["end_ns"]) != (int(h["first_ts_ns"]), int(h["last_ts_ns"])):
            fail(f"flow {fid}: ns integers differ from HDF5's")
        if abs(fl["duration_s"] - float(c["duration_s"])) > 1e-9:
            fail(f"flow {fid}: duration_s {fl['duration_s']} vs {c['duration_s']}")
        vlan = int(c["vlan"])
        if o.get("vlan") != ([vlan] if vlan else None):
            fail(f"flow {fid}: vlan {o.get('vlan')!r}, CSV {vlan}")
        for k, col in (("score", "score"), ("max_surprise", "max_surprise")):
            if abs(o[k] - float(c[col])) > 1e-6:
                fail(f"flow {fid}: {k} {o[k]} vs CSV {c[col]}")
        for comp, v in o["components"].items():
            if abs(v - float(c["score_" + comp])) > 1e-6:
                fail(f"flow {fid}: component {comp} {v} vs CSV {c['score_' + comp]}")
        pk = o.get("packets", [])
        if [iso(t)[0] for t in pk_csv.get(fid, [])] != [p["timestamp"] for p in pk] or \
                [iso(t)[1] for t in pk_csv.get(fid, [])] != [p["ts_ns"] for p in pk]:
            fail(f"flow {fid}: per-packet timestamps differ from OUT.packets.csv")
        n += 1
    if n != len(rows) or not n:
        fail(f"{cap}: {n} JSON records, {len(rows)} CSV rows")
    return n


def main():
    ssmflow, data, src = sys.argv[1:4]
    table = man_table(src)
    if len(table) < 20:
        fail(f"ssmflow-score(1)'s table has only {len(table)} rows")
    n = 0
    with tempfile.TemporaryDirectory(prefix="ssmflow-jsonl-") as td:
        for cap in CAPTURES:
            n += check_capture(ssmflow, os.path.join(data, cap), table, td)
    print(f"jsonl: {n} records over {len(CAPTURES)} captures match the CSV, HDF5 and the "
          f"{len(table)}-key table of ssmflow-score(1)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
