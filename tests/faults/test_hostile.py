"""`ssmflow extract` on hostile captures, generated here byte by byte.

    test_hostile.py SSMFLOW CASE     CASE: records | encap | fragments | tiny_flows

records:    caplen > len, zero-length packets, huge records (libpcap refuses a
            caplen above its limit: a clear error, the packets before it kept)
encap:      deep VLAN and MPLS stacks, long IPv6 extension-header chains: decoded
            up to the documented bound, counted as skipped beyond it
fragments:  a fragment flood: the fragment cache is fixed-size, so peak RSS stays
            near a small capture's and evictions are counted
tiny_flows: millions of one-packet UDP flows under --memory-cap 64M: the cap
            holds (peak RSS), evictions are counted in flows_ended_evicted, and
            every packet is in exactly one flow

Peak RSS is the program's own high-water mark (VmHWM), compared with a tiny
capture's run of the same binary, so that an ASan build's larger baseline does
not matter.
"""
import os
import subprocess
import sys
import tempfile
import time

import h5py

sys.path.insert(0, os.path.dirname(__file__))
import pcapgen as g  # noqa: E402

MAX_ENCAP_DEPTH = 16  # SSMF_MAX_ENCAP_DEPTH (features/decode.h)
MAX_IP6_EXT = 16      # IP6_MAX_EXT_HEADERS (features/decode_ipv6.c)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def sanitized(ssmflow):
    with open(ssmflow, "rb") as f:
        return b"AddressSanitizer" in f.read()


def vm_hwm_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def extract(ssmflow, out, inputs, *opts):
    """Runs extract; returns (exit code, stderr, peak RSS in MiB).

    Peak RSS is the kernel's high-water mark of the program's own address space
    (VmHWM), sampled every 10 ms while it runs: getrusage's ru_maxrss of a child
    would also count the pages of this (Python, numpy, h5py) process it was
    forked from."""
    env = dict(os.environ)
    # ASan keeps freed memory in quarantine (256 MiB by default): keep it small so
    # RSS measures what the program holds.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8"
    with tempfile.TemporaryFile(mode="w+", errors="replace") as errf:
        p = subprocess.Popen([ssmflow, "extract", "-q", "-o", out, *opts, *inputs],
                             stderr=errf, env=env)
        peak = 0.0
        while p.poll() is None:
            hwm = vm_hwm_mib(p.pid)
            if hwm is not None:
                peak = max(peak, hwm)
            time.sleep(0.01)
        errf.seek(0)
        err = errf.read()
    if "Sanitizer" in err or "runtime error:" in err:
        fail(f"sanitizer report: {err[-2000:]}")
    return p.returncode, err, peak


def write(path, recs, **hdr):
    with open(path, "wb") as f:
        f.write(g.header(**hdr))
        for r in recs:
            f.write(r)


def attrs(out):
    with h5py.File(out) as f:
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}


def udp_pkt(i, payload=b"x" * 18):
    return g.eth(0x0800, g.ipv4(g.v4(1), g.v4(2), 17, g.udp(1000 + i, 53, payload)))


def case_records(ssmflow, td):
    out = os.path.join(td, "r.h5")
    good = udp_pkt(0)
    t = 1700000000.0
    # caplen > len: libpcap passes it on; the wire length in the record is the header's.
    cap = os.path.join(td, "caplen-gt-len.pcap")
    write(cap, [g.record(t, good), g.record(t + 1, good, wirelen=20), g.record(t + 2, good)])
    rc, err, _ = extract(ssmflow, out, [cap])
    if rc not in (0, 3):
        fail(f"caplen > len: exit {rc}: {err}")
    if rc == 0 and attrs(out)["packets_read"] != 3:
        fail(f"caplen > len: {attrs(out)['packets_read']} packets read, 3 in the file")

    # zero-length packets: read, counted as truncated at the link layer, no record.
    cap = os.path.join(td, "zero.pcap")
    zeros = [g.record(t + i, b"") for i in range(50)] + \
        [g.record(t + 60, b"", wirelen=60), g.record(t + 61, good)]
    write(cap, zeros)
    rc, err, _ = extract(ssmflow, out, [cap])
    a = attrs(out) if rc == 0 else {}
    if rc != 0 or a["packets_read"] != 52 or a["skipped_truncated_link_header"] != 51 \
            or a["packets_decoded"] != 1:
        fail(f"zero-length packets: exit {rc}, attrs {a}: {err}")

    # huge records: a caplen libpcap will not allocate. After good packets: exit 3,
    # one warning naming the file and the packet, the packets before it kept.
    for caplen in (0x7fffffff, 300000, 0xffffffff):
        cap = os.path.join(td, f"huge-{caplen}.pcap")
        write(cap, [g.record(t, good), g.record(t + 1, good),
                    g.record(t + 2, b"\0" * 64, caplen=caplen)])
        rc, err, _ = extract(ssmflow, out, [cap])
        if rc != 3 or "packet 3" not in err or cap not in err:
            fail(f"huge record {caplen:#x}: exit {rc} (expected 3), stderr: {err}")
        if attrs(out)["packets_read"] != 2:
            fail(f"huge record {caplen:#x}: the 2 packets before it were not kept")
        # as the first record: nothing readable, exit 2, no output
        write(cap, [g.record(t, b"\0" * 64, caplen=caplen)])
        os.unlink(out)
        rc, err, _ = extract(ssmflow, out, [cap])
        if rc != 2 or os.path.exists(out) or cap not in err:
            fail(f"huge first record {caplen:#x}: exit {rc} (expected 2): {err}")

    # caplen above the file's snaplen but within libpcap's limit: read, no crash.
    cap = os.path.join(td, "over-snaplen.pcap")
    write(cap, [g.record(t, good + b"\0" * 2000)], snaplen=64)
    rc, err, _ = extract(ssmflow, out, [cap])
    if rc not in (0, 3):
        fail(f"caplen > snaplen: exit {rc}: {err}")
    print("records: caplen > len, zero-length and huge records handled")


def case_encap(ssmflow, td):
    out = os.path.join(td, "e.h5")
    ip = g.ipv4(g.v4(1), g.v4(2), 17, g.udp(1000, 53, b"q" * 8))
    ip6 = g.ipv6(b"\x20\x01" + bytes(13) + b"\x01", b"\x20\x01" + bytes(13) + b"\x02", 17,
                 g.udp(1000, 53, b"q" * 8))
    t = 1700000000.0
    pkts = []
    ok_vlan, bad = [1, 2, 8, MAX_ENCAP_DEPTH], 0
    for depth in ok_vlan:
        pkts.append(g.vlan_stack(depth, 0x0800, ip))
    for depth in (MAX_ENCAP_DEPTH + 2, 100, 1000):
        pkts.append(g.vlan_stack(depth, 0x0800, ip))
        bad += 1
    ok_mpls = [1, 4, MAX_ENCAP_DEPTH - 1]
    for depth in ok_mpls:
        pkts.append(g.mpls_stack(depth, ip))
    for depth in (MAX_ENCAP_DEPTH + 2, 500):
        pkts.append(g.mpls_stack(depth, ip))
        bad += 1
    # IPv6 extension header chains: hop-by-hop first, then destination options.
    ok_ext = [1, 8, MAX_IP6_EXT]
    bad_ext = 0
    for n in ok_ext + [MAX_IP6_EXT + 1, 64]:
        chain = b"".join(g.ipv6_ext(60 if i + 1 < n else 17) for i in range(n))
        payload = chain + g.udp(1000, 53, b"q" * 8)
        pkts.append(g.eth(0x86dd, g.ipv6(bytes(15) + b"\x01", bytes(15) + b"\x02", 0, payload)))
        bad_ext += n > MAX_IP6_EXT
    # an extension header longer than the packet
    longext = g.ipv6_ext(17, 200)[:16] + g.udp(1000, 53)
    pkts.append(g.eth(0x86dd, g.ipv6(bytes(15) + b"\x01", bytes(15) + b"\x02", 0, longext)))
    pkts.append(g.eth(0x86dd, ip6))
    cap = os.path.join(td, "encap.pcap")
    write(cap, [g.record(t + i, p) for i, p in enumerate(pkts)])
    rc, err, _ = extract(ssmflow, out, [cap])
    if rc != 0:
        fail(f"encapsulations: exit {rc}: {err}")
    a = attrs(out)
    decoded = len(ok_vlan) + len(ok_mpls) + len(ok_ext) + 1
    if a["packets_read"] != len(pkts) or a["packets_decoded"] != decoded:
        fail(f"encapsulations: {a['packets_decoded']} decoded of {a['packets_read']}, "
             f"expected {decoded} of {len(pkts)}")
    if a["skipped_bad_encapsulation"] != bad:
        fail(f"encapsulations: {a['skipped_bad_encapsulation']} bad encapsulations, "
             f"expected {bad}")
    if a["skipped_bad_ipv6_extension_headers"] + a["skipped_truncated_ip_header"] != bad_ext + 1:
        fail(f"IPv6 chains: {a['skipped_bad_ipv6_extension_headers']} bad chains, "
             f"{a['skipped_truncated_ip_header']} truncated; expected {bad_ext + 1} in all")
    with h5py.File(out) as f:
        vlans = sorted(set(int(v) for v in f["flows"]["vlan"]))
    if MAX_ENCAP_DEPTH not in vlans or 8 not in vlans:
        fail(f"VLAN stacks: innermost VLAN ids {vlans}")
    print(f"encapsulations: {decoded} decoded, {bad} bad stacks and {bad_ext + 1} bad IPv6 "
          "chains counted")


def baseline_rss(ssmflow, td):
    cap = os.path.join(td, "tiny.pcap")
    g.write_many_udp_flows(cap, 10)
    rc, err, rss = extract(ssmflow, os.path.join(td, "tiny.h5"), [cap])
    if rc != 0:
        fail(f"baseline run: exit {rc}: {err}")
    return rss


def case_fragments(ssmflow, td):
    """300k fragments of one address pair, 150k datagram ids: the cache (8192
    slots) overflows and evicts; memory must not follow the number of ids."""
    base = baseline_rss(ssmflow, td)
    n = 150000
    src, dst = g.v4(1), g.v4(2)
    first = bytearray(g.record(0, g.eth(0x0800, g.ipv4(src, dst, 17, g.udp(5000, 53, b"f" * 16),
                                                      ident=0, more_fragments=True))))
    rest = bytearray(g.record(0, g.eth(0x0800, g.ipv4(src, dst, 17, b"r" * 24, ident=0,
                                                     frag_offset=24))))
    cap = os.path.join(td, "frag.pcap")
    ident_at = 16 + 14 + 4
    with open(cap, "wb") as f:
        f.write(g.header())
        for i in range(n):
            for rec, lag in ((first, 0), (rest, 9000)):
                ident = (i - lag) & 0xffff if lag else i & 0xffff
                if lag and i < lag:
                    continue
                rec[0:4] = (1700000000 + i // 1000).to_bytes(4, "little")
                rec[ident_at:ident_at + 2] = ident.to_bytes(2, "big")
                f.write(rec)
    rc, err, rss = extract(ssmflow, os.path.join(td, "frag.h5"), [cap])
    if rc != 0:
        fail(f"fragment flood: exit {rc}: {err}")
    a = attrs(os.path.join(td, "frag.h5"))
    nonfirst = n - 9000
    if a["fragments_attributed"] + a["fragments_unattributed"] != nonfirst:
        fail(f"fragment flood: {a['fragments_attributed']} + {a['fragments_unattributed']} "
             f"non-first fragments accounted, {nonfirst} in the file")
    if a["fragment_cache_evictions"] == 0 or a["fragments_unattributed"] == 0:
        fail(f"fragment flood: the cache never overflowed: {a}")
    limit = 48.0
    if rss - base > limit:
        fail(f"fragment flood: peak RSS {rss:.0f} MiB, {rss - base:.0f} MiB above a tiny "
             f"capture's (limit {limit})")
    print(f"fragment flood: {n + nonfirst} fragments, {a['fragment_cache_evictions']} cache "
          f"evictions, {a['fragments_unattributed']} unattributed; peak RSS {rss:.0f} MiB "
          f"(tiny capture {base:.0f} MiB)")


def case_tiny_flows(ssmflow, td):
    base = baseline_rss(ssmflow, td)
    asan = sanitized(ssmflow)
    # Under ASan the same cap needs about 4x the time: 1M flows keep it near 60 s.
    n = 1000000 if asan else 2000000
    cap = os.path.join(td, "tiny-flows.pcap")
    g.write_many_udp_flows(cap, n)
    out = os.path.join(td, "tiny-flows.h5")
    rc, err, rss = extract(ssmflow, out, [cap], "--memory-cap", "64M")
    if rc != 0:
        fail(f"{n} tiny flows: exit {rc}: {err}")
    a = attrs(out)
    if a["packets_read"] != n or a["flows"] != n:
        fail(f"{n} tiny flows: {a['packets_read']} packets, {a['flows']} flows")
    if a["flows_ended_evicted"] == 0 or a["flows_ended_evicted"] + a["flows_ended_eof"] != n:
        fail(f"{n} tiny flows: evicted {a['flows_ended_evicted']}, "
             f"eof {a['flows_ended_eof']}: every flow ends by eviction or end of input")
    total, rows, reasons = 0, 0, {}
    with h5py.File(out) as f:
        flows = f["flows"]
        for s in range(0, len(flows), 1 << 18):
            part = flows.fields(["fwd_packets", "bwd_packets", "end_reason"])[s:s + (1 << 18)]
            total += int(part["fwd_packets"].sum() + part["bwd_packets"].sum())
            rows += len(part)
            for r in set(part["end_reason"].tolist()):
                reasons[r] = reasons.get(r, 0) + int((part["end_reason"] == r).sum())
        npk = len(f["packets"])
    if total != n or rows != n or npk != n:
        fail(f"{n} tiny flows: {total} packets in {rows} flows, {npk} records")
    if reasons.get(5, 0) != a["flows_ended_evicted"]:  # SSMF_END_EVICTED
        fail(f"{n} tiny flows: {reasons.get(5, 0)} rows say evicted, the counter "
             f"{a['flows_ended_evicted']}")
    # The cap counts flow state and buffered records; the rest (hash buckets,
    # the flow pool, HDF5 chunks on the writer thread) is a few tens of MiB.
    limit = 64 + (96 if asan else 48)
    if rss - base > limit:
        fail(f"{n} tiny flows: peak RSS {rss:.0f} MiB, {rss - base:.0f} MiB above a tiny "
             f"capture's; the 64 MiB cap allows {limit}")
    print(f"{n} tiny flows under --memory-cap 64M: {a['flows_ended_evicted']} evicted, "
          f"{total} packets conserved; peak RSS {rss:.0f} MiB (tiny capture {base:.0f} MiB)")


CASES = {"records": case_records, "encap": case_encap, "fragments": case_fragments,
         "tiny_flows": case_tiny_flows}


def main():
    ssmflow, case = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="ssmflow-hostile-") as td:
        CASES[case](ssmflow, td)


if __name__ == "__main__":
    main()
