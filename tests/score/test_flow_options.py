"""`ssmflow score` takes the flow table options it shares with extract, and they act.

A regression test: score's own --mode and --chunk once had the getopt codes of the
shared --memory-cap and --tcp-close, so `score --memory-cap 256M` failed as a bad
--mode and `score --tcp-close no` as a bad --chunk.

Oracles: tshark's TCP/UDP conversation counts (reference/nDPI.flows.tsv), which
score's flows must equal with timeouts and TCP close off, as extract's do
(oracle.flow_counts); the generator's own count of one-packet flows, every one
scored once, with evictions under a 1 MiB --memory-cap and none without it; and
extract's Community IDs under the same --community-id-seed. The summary's packet
counts equal the dataset's provenance of the same capture.
"""
import csv
import os
import re
import subprocess
import sys

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "faults"))
from common import extract, fail, read_tsv, tmpdir  # noqa: E402
import pcapgen  # noqa: E402

NDPI = "traffic/nDPI/tests/cfgs/default/pcap"
# Captures where the defaults (timeouts, TCP close) split conversations that tshark
# counts once, so the options change the counts.
CAPTURES = ("avast.pcap", "anyconnect-vpn.pcap", "dnp3.pcap")


def score(ssmflow, out, inputs, *opts):
    p = subprocess.run([ssmflow, "score", "-o", out, *opts, *inputs], capture_output=True,
                       text=True)
    if p.returncode != 0:
        fail(f"score {' '.join(opts)}: exit {p.returncode}: {p.stderr.strip()}")
    with open(out, newline="") as f:
        return list(csv.DictReader(f)), p.stderr


def counts(rows):
    return (sum(r["protocol"] == "6" for r in rows), sum(r["protocol"] == "17" for r in rows))


def main(ssmflow, data):
    tshark = {os.path.basename(r[0]): (int(r[1]), int(r[2])) for r in read_tsv(
        os.path.join(data, "reference", "nDPI.flows.tsv"))}
    off = ("--idle-timeout", "0", "--active-timeout", "0", "--tcp-close", "no")
    with tmpdir() as td:
        out = os.path.join(td, "s.csv")
        for name in CAPTURES:
            cap = os.path.join(data, NDPI, name)
            default, _ = score(ssmflow, out, [cap])
            rows, err = score(ssmflow, out, [cap], *off, "--memory-cap", "64M")
            if counts(rows) != tshark[name] or counts(default) == tshark[name]:
                fail(f"{name}: tcp/udp flows {counts(rows)} with the options off, "
                     f"{counts(default)} by default; tshark {tshark[name]}")
            ds = os.path.join(td, "d.h5")
            extract(ssmflow, [cap], ds)
            with h5py.File(ds) as f:
                a = f.attrs
                skipped = sum(int(v) for k, v in a.items() if k.startswith("skipped_"))
                want = (int(a["packets_read"]), int(a["packets_decoded"]), skipped)
            m = re.search(r"(\d+) packets read, (\d+) decoded, (\d+) skipped", err)
            if not m or tuple(map(int, m.groups())) != want:
                fail(f"{name}: score's summary {m and m.groups()}, the dataset's {want}: {err}")

        # --community-id-seed: score's IDs are extract's under the same seed
        cap = os.path.join(data, NDPI, CAPTURES[1])
        rows, _ = score(ssmflow, out, [cap], "--community-id-seed", "7")
        extract(ssmflow, [cap], ds, "--community-id-seed", "7")
        with h5py.File(ds) as f:
            theirs = sorted(x.decode() for x in f["flows"]["community_id"])
        if sorted(r["community_id"] for r in rows) != theirs:
            fail("--community-id-seed 7: score's Community IDs are not extract's")
        if sorted(r["community_id"] for r in score(ssmflow, out, [cap])[0]) == theirs:
            fail("--community-id-seed 7 gave the IDs of seed 0")

        # --memory-cap: 20,000 one-packet flows, evicted under 1 MiB, each scored once
        n = 20000
        many = os.path.join(td, "many.pcap")
        pcapgen.write_many_udp_flows(many, n)
        for cap_opt, evicting in (("1M", True), ("256M", False)):
            rows, _ = score(ssmflow, out, [many], "--memory-cap", cap_opt)
            evicted = sum(r["end_reason"] == "evicted" for r in rows)
            if len(rows) != n or sum(int(r["packets_scored"]) for r in rows) != n or \
                    (evicted > 0) != evicting:
                fail(f"--memory-cap {cap_opt}: {len(rows)} flows, {evicted} evicted, of {n}")
    print(f"score: flow options act on {len(CAPTURES)} captures as tshark counts; "
          "community id seed and memory cap checked")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
