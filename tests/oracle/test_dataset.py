"""Datasets read by h5py and h5dump, checked against the C header, tshark and hashlib.

- the /packets dtype matches features/ssmf_record.h field by field (offsets
  parsed from its field table, which the compiler holds against the struct);
- every flow's records are contiguous, in time order, with consistent ids,
  indices and gaps;
- per-flow packet and byte totals, both directions, equal tshark's;
- each record's IP length, TTL, protocol, TCP flags and window equal tshark's
  fields for that packet;
- .gz, .zst and stdin inputs give the same dataset as the plain file, and the
  provenance (size, SHA-256) matches hashlib;
- h5dump (with the plugin) reads the compressed data; `ssmflow info` agrees.
"""
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import extract, fail, tmpdir  # noqa: E402
from tshark_pairs import (dataset_direction_totals, dataset_flows,  # noqa: E402
                          tshark_direction_totals)

NDPI = "traffic/nDPI/tests/cfgs/default/pcap"
# A sample with TCP and UDP, IPv4 and IPv6, no tunnels or VLANs.
SAMPLE = ["1kxun.pcap", "quic-23.pcap", "dns-tunnel-iodine.pcap", "ookla.pcap", "http_ipv6.pcap", "lru_ipv6_caches.pcapng",
          "tls_false_positives.pcapng"]


def header_offsets(src):
    text = open(os.path.join(src, "features", "ssmf_record.h")).read()
    offs = dict(re.findall(r"X\((\w+), uint\d+_t, \d+, (\d+),", text))
    size = int(re.search(r"#define SSMF_RECORD_SIZE\s+(\d+)u", text).group(1))
    return {k: int(v) for k, v in offs.items()}, size


def check_schema(f, src):
    offs, size = header_offsets(src)
    dt = f["packets"].dtype
    if dt.itemsize != size:
        fail(f"/packets itemsize {dt.itemsize}, header says {size}")
    for name, off in offs.items():
        if name not in dt.fields or dt.fields[name][1] != off:
            fail(f"/packets field {name}: {dt.fields.get(name)} vs header offset {off}")
    if f.attrs["format"] != "ssmflow-dataset" or int(f.attrs["record_size"]) != size:
        fail("root attributes do not name the format and record size")


def check_structure(f):
    flows, pk = f["flows"][:], f["packets"][:]
    order = np.argsort(flows["packet_offset"])
    expect = 0
    for i in order:
        r = flows[i]
        off, n = int(r["packet_offset"]), int(r["packet_count"])
        if off != expect:
            fail(f"flow {r['flow_id']}: records at {off}, expected {expect} (not contiguous)")
        expect = off + n
        recs = pk[off:off + n]
        if n == 0 or n > int(r["fwd_packets"] + r["bwd_packets"]):
            fail(f"flow {r['flow_id']}: {n} records for {r['fwd_packets'] + r['bwd_packets']}")
        if not (recs["flow_id"] == r["flow_id"]).all():
            fail(f"flow {r['flow_id']}: records carry another flow id")
        if not (recs["pkt_index"] == np.arange(n)).all():
            fail(f"flow {r['flow_id']}: pkt_index is not 0..n-1")
        if recs["direction"][0] != 0 and not (int(r["protocol"]) == 6):
            fail(f"flow {r['flow_id']}: first packet not from the initiator")
        if int(recs["ts_ns"][0]) != int(r["first_ts_ns"]):
            fail(f"flow {r['flow_id']}: first record ts != first_ts_ns")
        ts = recs["ts_ns"].astype(np.int64)
        gaps = np.diff(ts) // 1000
        ok = (recs["flags"][1:] & 16) != 0  # out-of-order records have gap 0
        if not ((recs["gap_us"][1:] == np.clip(gaps, 0, 2**32 - 1)) | ok).all():
            fail(f"flow {r['flow_id']}: gap_us disagrees with timestamps")
        if recs["gap_us"][0] != 0:
            fail(f"flow {r['flow_id']}: first gap is not 0")
    if expect != len(pk):
        fail(f"/packets has {len(pk)} records, flows cover {expect}")


def check_totals(path, flows):
    theirs, ours = tshark_direction_totals(path), dataset_direction_totals(flows)
    if theirs != ours:
        diff = {k: (theirs.get(k), ours.get(k)) for k in set(theirs) | set(ours)
                if theirs.get(k) != ours.get(k)}
        fail(f"{path}: per-direction packets/bytes differ from tshark: {list(diff.items())[:4]}")
    return len(theirs)


def check_records(path, f):
    cmd = ["tshark", "-r", path, "-T", "fields", "-E", "occurrence=f", "-E", "separator=\t",
           "-e", "frame.time_epoch", "-e", "ip.len", "-e", "ipv6.plen", "-e", "ip.ttl",
           "-e", "ipv6.hlim", "-e", "tcp.flags", "-e", "tcp.window_size_value"]
    rows = []
    for line in subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines():
        c = line.split("\t")
        if not (c[1] or c[2]):
            continue
        iplen = int(c[1]) if c[1] else int(c[2]) + 40
        ttl = int(c[3] or c[4])
        flags = int(c[5], 16) if c[5] else 0
        win = int(c[6]) if c[6] else 0
        sec, _, frac = c[0].partition(".")
        ts = int(sec) * 10**9 + int((frac + "000000000")[:9])
        rows.append((ts, iplen, ttl, flags, win))
    pk = f["packets"][:]
    ours = sorted(zip(pk["ts_ns"].tolist(), pk["ip_len"].tolist(), pk["ttl"].tolist(),
                      pk["tcp_flags"].tolist(), pk["tcp_window"].tolist()))
    if sorted(rows) != ours:
        a, b = sorted(rows), ours
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), None)
        fail(f"{path}: records differ from tshark's fields ({len(a)} vs {len(b)} packets; "
             f"first difference at {first}: {a[first] if first is not None else ''} vs "
             f"{b[first] if first is not None else ''})")
    return len(rows)


def same_content(a, b):
    with h5py.File(a) as fa, h5py.File(b) as fb:
        return (np.array_equal(fa["packets"][:], fb["packets"][:])
                and np.array_equal(fa["flows"][:], fb["flows"][:]))


def main(ssmflow, data, src):
    npairs = nrec = 0
    with tmpdir() as td:
        for name in SAMPLE:
            path = os.path.join(data, NDPI, name)
            out = os.path.join(td, name + ".h5")
            extract(ssmflow, [path], out, "--idle-timeout", "0", "--active-timeout", "0",
                    "--tcp-close", "no")
            with h5py.File(out) as f:
                check_schema(f, src)
                check_structure(f)
                nrec += check_records(path, f)
            npairs += check_totals(path, dataset_flows(out))

        # Compressed and stdin inputs: the same dataset, and provenance that hashlib agrees with.
        plain = os.path.join(data, NDPI, "1kxun.pcap")
        gz, zst = os.path.join(td, "c.pcap.gz"), os.path.join(td, "c.pcap.zst")
        with open(plain, "rb") as i, gzip.open(gz, "wb") as o:
            shutil.copyfileobj(i, o)
        subprocess.run(["zstd", "-q", "-f", plain, "-o", zst], check=True)
        ref = os.path.join(td, "ref.h5")
        extract(ssmflow, [plain], ref)
        for variant in (gz, zst):
            out = os.path.join(td, "v.h5")
            extract(ssmflow, [variant], out)
            if not same_content(ref, out):
                fail(f"{variant}: dataset differs from the uncompressed capture's")
            with h5py.File(out) as f:
                row = f["inputs"][0]
                raw = open(variant, "rb").read()
                if row["sha256"].decode() != hashlib.sha256(raw).hexdigest():
                    fail(f"{variant}: provenance SHA-256 differs from hashlib's")
                if int(row["size_bytes"]) != len(raw):
                    fail(f"{variant}: provenance size {row['size_bytes']} != {len(raw)}")
        out = os.path.join(td, "stdin.h5")
        with open(zst, "rb") as stdin:
            p = subprocess.run([ssmflow, "extract", "-q", "-o", out, "-"], stdin=stdin,
                               capture_output=True, text=True)
        if p.returncode != 0 or not same_content(ref, out):
            fail(f"stdin input: exit {p.returncode} {p.stderr.strip()}, or content differs")

        # h5dump reads the compressed datasets through the plugin.
        p = subprocess.run(["h5dump", "-d", "/packets", "-c", "3", ref], capture_output=True,
                           text=True)
        with h5py.File(ref) as f:
            first_ts = int(f["packets"][0]["ts_ns"])
            nflows, npk = len(f["flows"]), len(f["packets"])
        if p.returncode != 0 or str(first_ts) not in p.stdout:
            fail(f"h5dump could not read /packets: {p.stderr.strip()[:300]}")
        # The C reader (ssmflow info) agrees with h5py.
        info = subprocess.run([ssmflow, "info", ref], capture_output=True, text=True).stdout
        if (f"flows (rows of /flows)         {nflows}" not in info
                or f"records (rows of /packets)     {npk}" not in info):
            fail(f"ssmflow info disagrees with h5py ({nflows} flows, {npk} records):\n{info}")
        # ... and on the flows that --max-packets cut
        cut = os.path.join(td, "cut.h5")
        subprocess.run([ssmflow, "extract", "-q", "--max-packets", "10", "-o", cut, plain],
                       check=True)
        with h5py.File(cut) as f:
            fl = f["flows"][:]
            ncut = int(((fl["fwd_packets"] + fl["bwd_packets"]) > fl["packet_count"]).sum())
        info = subprocess.run([ssmflow, "info", cut], capture_output=True, text=True).stdout
        if not ncut or f"flows cut at --max-packets     {ncut}\n" not in info:
            fail(f"ssmflow info: flows cut at --max-packets 10 should be {ncut}:\n{info}")
    print(f"dataset checks passed: {len(SAMPLE)} captures, {nrec} records and {npairs} "
          f"flow directions equal to tshark's")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
