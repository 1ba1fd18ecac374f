#!/usr/bin/env python3
"""Community ID of every flow against the PyPI `communityid` package (corelight's own
implementation of the spec), over real IPv4/IPv6 captures with TCP, UDP, ICMP and ICMPv6.

The oracle side reads each packet with tshark, computes the packet's Community ID with
`communityid`, and finds the packet that starts each of our flows by its timestamp,
addresses and protocol; the flow's ID must be that packet's. Then score's CSV, JSON lines
and HDF5 outputs must carry the same IDs as extract's /flows, and a seed must change them
the way `communityid` does.

usage: test_community_id.py SSMFLOW DATA_DIR
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

import ipaddress

import h5py
import communityid

CAPTURES = [
    "robustness/suricata-verify/tests/bug-4663-03/icmp_and_ssh.pcap",  # IPv4 TCP, ICMP echo
    "robustness/wireshark-debsrc/test/captures/dns+icmp.pcapng.gz",  # IPv4 UDP, ICMP
    "robustness/arkime/tests/pcap/v6.pcap",  # IPv6 TCP, UDP, ICMPv6 incl. one-way errors
    "robustness/tcpdump/tests/icmpv6.pcap",  # ICMPv6 MLD/RA
]
ONE_WAY_EXTRA = "robustness/tcpdump/tests/icmp-rfc5837.pcap"  # IPv4 ICMP errors (one-way)

FIELDS = ["frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport",
          "tcp.dstport", "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
          "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code"]

# (protocol, kind, communityid constructor, field of the port or type, of the port or code)
TRANSPORTS = [
    (1, "icmp", communityid.FlowTuple.make_icmp, "icmp.type", "icmp.code"),
    (58, "icmp6", communityid.FlowTuple.make_icmp6, "icmpv6.type", "icmpv6.code"),
    (6, "tcp", communityid.FlowTuple.make_tcp, "tcp.srcport", "tcp.dstport"),
    (17, "udp", communityid.FlowTuple.make_udp, "udp.srcport", "udp.dstport"),
    (132, "sctp", communityid.FlowTuple.make_sctp, "sctp.srcport", "sctp.dstport"),
]

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, file=sys.stderr)


def epoch_ns(text):
    """tshark's frame.time_epoch ('1234.567890000') as integer ns, without a float."""
    sec, _, frac = text.partition(".")
    return int(sec) * 1_000_000_000 + int((frac + "000000000")[:9])


def first(v):
    """The outermost value of a field (ICMP errors quote the offending packet's headers)."""
    return v.split(",")[0] if v else ""


def packet_ids(cap, seed):
    """{(time ns, frozenset of the two addresses, proto): {Community ID, ...}} for every
    IP packet tshark decodes, and the Counter of protocols seen."""
    cid = communityid.CommunityID(seed=seed)
    out = subprocess.run(["tshark", "-r", cap, "-T", "fields", "-E", "separator=\t",
                          "-E", "occurrence=a"] + sum((["-e", f] for f in FIELDS), []),
                         capture_output=True, text=True, check=True).stdout
    ids, seen = defaultdict(set), Counter()
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        src = first(v["ip.src"]) or first(v["ipv6.src"])
        dst = first(v["ip.dst"]) or first(v["ipv6.dst"])
        if not src:
            continue
        # the outermost transport: an ICMP error carries the TCP/UDP header it quotes
        for proto, name, make, a, b in TRANSPORTS:
            if v[a]:
                break
        else:
            continue
        x, y = first(v[a]), first(v[b])
        t = make(src, dst, x, y)
        if proto in (1, 58):  # the package's own one-way test, for the coverage count
            mapper = communityid.icmp if proto == 1 else communityid.icmp6
            name += "-one-way" if mapper.get_port_equivalents(int(x), int(y))[2] else ""
        seen[name + ("/v6" if ":" in src else "/v4")] += 1
        ids[epoch_ns(v["frame.time_epoch"]), frozenset((src, dst)), proto].add(cid.calc(t))
    return ids, seen


def addr_text(raw, ver):
    b = bytes(raw)
    return str(ipaddress.IPv6Address(b) if ver == 6 else ipaddress.IPv4Address(b[:4]))


def flows_of(h5):
    with h5py.File(h5) as f:
        return f["flows"][:]


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if p.returncode not in (0, 3):
        raise RuntimeError(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


def check_extract(ssmflow, cap, td, seed):
    ids, seen = packet_ids(cap, seed)
    ds = os.path.join(td, "x.h5")
    run(ssmflow, "extract", "-q", "--community-id-seed", str(seed), "-o", ds, cap)
    fl = flows_of(ds)
    matched = 0
    for r in fl:
        ver = int(r["ip_version"])
        got = r["community_id"].decode()
        if ver not in (4, 6):
            if got:
                fail(f"{cap}: flow {r['flow_id']} without IP has ID {got}")
            continue
        src, dst = addr_text(r["src_addr"], ver), addr_text(r["dst_addr"], ver)
        want = ids.get((int(r["first_ts_ns"]), frozenset((src, dst)), int(r["protocol"])))
        if want is None:
            continue  # a protocol tshark's fields above do not cover
        matched += 1
        if got not in want:
            fail(f"{cap}: flow {r['flow_id']} {src}->{dst} proto {r['protocol']}: "
                 f"{got!r}, communityid says {sorted(want)}")
    if matched < len(fl) * 0.9 or not matched:
        fail(f"{cap}: only {matched} of {len(fl)} flows found a packet to compare with")
    return ds, fl, matched, seen


def check_score(ssmflow, cap, ds, fl, td):
    """score's three outputs carry extract's IDs, flow by flow (capture and dataset input)."""
    want = {int(r["flow_id"]): r["community_id"].decode() for r in fl}
    for inp in (cap, ds):
        csvp, jsp, h5p = (os.path.join(td, "s." + e) for e in ("csv", "jsonl", "h5"))
        for out in (csvp, jsp, h5p):
            run(ssmflow, "score", "-q", "-o", out, inp)
        got_csv = {int(r["flow_id"]): r["community_id"] for r in csv.DictReader(open(csvp))}
        got_js = {o["flow_id"]: o["community_id"] or "" for o in map(json.loads, open(jsp))}
        got_h5 = {int(r["flow_id"]): r["community_id"].decode() for r in flows_of(h5p)}
        for name, got in (("csv", got_csv), ("jsonl", got_js), ("hdf5", got_h5)):
            if got != want:
                bad = [k for k in want if got.get(k) != want[k]][:3]
                fail(f"score {name} of {os.path.basename(inp)}: IDs differ from extract's "
                     f"(flows {bad})")


def main():
    ssmflow, data = sys.argv[1], sys.argv[2]
    total, seen_all = 0, Counter()
    with tempfile.TemporaryDirectory(prefix="ssmflow-cid-") as td:
        for rel in CAPTURES + [ONE_WAY_EXTRA]:
            cap = os.path.join(data, rel)
            ds, fl, matched, seen = check_extract(ssmflow, cap, td, 0)
            total += matched
            print(f"{rel}: {matched} of {len(fl)} flows compared")
            seen_all += seen
            if rel in CAPTURES[:2]:
                check_score(ssmflow, cap, ds, fl, td)
        # a seed: same comparison, different IDs
        cap = os.path.join(data, CAPTURES[0])
        _, fl7, _, _ = check_extract(ssmflow, cap, td, 7)
        _, fl0, _, _ = check_extract(ssmflow, cap, td, 0)
        if any(a == b for a, b in zip(fl7["community_id"], fl0["community_id"])):
            fail("--community-id-seed 7 left some ID unchanged")
        # old datasets (no community_id column) still read: the IDs come back empty
        old = os.path.join(td, "old.h5")
        subprocess.run(["cp", os.path.join(td, "x.h5"), old], check=True)
        with h5py.File(old, "r+") as f:
            rows = f["flows"][:]
            keep = [n for n in rows.dtype.names if n != "community_id"]
            attrs = dict(f["flows"].attrs)
            del f["flows"]
            f.create_dataset("flows", data=rows[keep])
            for k, v in attrs.items():
                f["flows"].attrs[k] = v
        jsp = os.path.join(td, "old.jsonl")
        run(ssmflow, "score", "-q", "-o", jsp, old)
        if any(json.loads(x)["community_id"] is not None for x in open(jsp)):
            fail("a dataset without community_id scored with IDs")
    for need in ("tcp/v4", "udp/v4", "icmp/v4", "icmp-one-way/v4", "tcp/v6", "udp/v6",
                 "icmp6/v6", "icmp6-one-way/v6"):
        if not seen_all[need]:
            fail(f"the captures hold no {need} packet: the test does not cover it")
    print(f"community_id: {total} flows compared with the communityid package over "
          f"{len(CAPTURES) + 1} captures; packets by kind {dict(seen_all)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
