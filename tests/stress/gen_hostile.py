"""Writes a pcap of hostile traffic mixed with normal traffic, fast (numpy).

    gen_hostile.py OUT.pcap PACKETS [--seed N]

Prints, as one JSON object, the packets written and, per expected outcome
("decoded" or the name of a skip reason, as extract's provenance names them;
"any" for random bytes), how many packets the generator meant for it.

Each kind of packet is a template built with tests/faults/pcapgen.py, repeated
with its addresses, ports and IP ids patched per packet. Some kinds are
sequences of templates taken in turn (a fragmented datagram's pieces, out of
order and overlapping). Kinds are mixed at random by their weight (kinds()), in
blocks of 131072 packets; timestamps step by one microsecond.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "faults"))
import pcapgen as g  # noqa: E402

T0 = 1700000000
BLOCK = 1 << 17  # packets per block: bounds the scatter's index arrays
NORMAL_TCP_FLOWS = 2000
NORMAL_UDP_FLOWS = 50000
ENCAP_FLOWS = 4096  # per kind of encapsulation or damage
FRAG = -1  # fragment kinds: a new source address every 65536 datagrams

SRC4 = bytes([10, 1, 0, 1])
DST4 = bytes([10, 2, 0, 1])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8000000000000000000000002")


class Template:
    """One packet: its bytes, the wire length its record claims, what extract
    should make of it, and the offsets patched per packet: `src` (the last 3
    bytes of an address), `port` (2 bytes), `ipid` (2 bytes), `rand` (random
    bytes from there to the end)."""

    def __init__(self, data, expect, src=(), port=(), ipid=(), rand=None, wirelen=None,
                 ts_shift=0):
        self.data = np.frombuffer(data, dtype=np.uint8)
        self.wirelen = len(data) if wirelen is None else wirelen
        self.expect, self.src, self.port, self.ipid, self.rand = expect, src, port, ipid, rand
        self.ts_shift = ts_shift


ETH = 14
IP4 = ETH + 20  # the L4 header of an Ethernet + IPv4 packet
SRC4_OFF = ETH + 12  # IPv4 source address in an Ethernet frame
SRC6_OFF = ETH + 8


def udp4(payload=b"q" * 20, sport=1000, dport=53):
    return g.eth(0x0800, g.ipv4(SRC4, DST4, 17, g.udp(sport, dport, payload)))


def tcp4(flags=0x18, payload=b"d" * 40, src=SRC4, dst=DST4, sport=40000, dport=443):
    return g.eth(0x0800, g.ipv4(src, dst, 6, g.tcp(sport, dport, flags, payload)))


def frag4_pieces():
    """One UDP datagram of 40 bytes (8 header + 32 data) in three fragments, sent
    last, first, middle; the middle one overlaps both of its neighbours."""
    dgram = g.udp(2000, 9999, b"f" * 32)
    pieces = [(24, dgram[24:], False), (0, dgram[0:16], True), (8, dgram[8:32], True)]
    out = []
    for off, part, mf in pieces:
        pkt = g.eth(0x0800, g.ipv4(SRC4, DST4, 17, part, frag_offset=off, more_fragments=mf))
        out.append(Template(pkt, "decoded", src=(SRC4_OFF + 1,), ipid=(ETH + 4,)))
    return out


def frag6_pieces():
    """The same datagram as IPv6 fragments (a Fragment header, id patched), last first."""
    dgram = g.udp(2000, 9999, b"f" * 32)
    out = []
    for off, part, mf in [(24, dgram[24:], False), (0, dgram[0:16], True),
                          (8, dgram[8:32], True)]:
        frag = bytes([17, 0]) + (off | int(mf)).to_bytes(2, "big") + bytes(4)
        pkt = g.eth(0x86dd, g.ipv6(SRC6, DST6, 44, frag + part))
        # the fragment id's low 2 bytes (the header's last 2), and the source
        out.append(Template(pkt, "decoded", src=(SRC6_OFF + 13,), ipid=(ETH + 40 + 6,)))
    return out


def ext6_chain(n, last=17, inner=None):
    """IPv6 with n extension headers (hop-by-hop, then destination options and
    routing in turn) before `inner` (UDP by default)."""
    kinds = [0] + [60 if i % 2 else 43 for i in range(1, n)]
    payload = inner if inner is not None else g.udp(3000, 53, b"e" * 12)
    chain = b"".join(g.ipv6_ext(kinds[i + 1] if i + 1 < n else last) for i in range(n))
    return g.ipv6(SRC6, DST6, kinds[0] if n else last, chain + payload)


def gre(proto, inner):
    return g.eth(0x0800, g.ipv4(SRC4, DST4, 47, b"\x00\x00" + proto.to_bytes(2, "big") + inner))


def vxlan(inner_frame):
    hdr = bytes([0x08, 0, 0, 0, 0, 0x12, 0x34, 0])
    return g.eth(0x0800, g.ipv4(SRC4, DST4, 17, g.udp(50000, 4789, hdr + inner_frame)))


def qinq(payload):
    """An 802.1ad service tag (VLAN 100) over an 802.1Q tag (VLAN 200), then IPv4."""
    return g.eth(0x88a8, (100).to_bytes(2, "big") + (0x8100).to_bytes(2, "big") +
                 (200).to_bytes(2, "big") + (0x0800).to_bytes(2, "big") + payload)


def kinds():
    """(name, weight, flows, templates taken in turn). The j-th packet of a kind is in
    flow j % flows (None: a flow of its own, the tiny flows; FRAG: see flow_key)."""
    ip4_udp = g.ipv4(SRC4, DST4, 17, g.udp(1000, 53, b"q" * 20))
    ip4_tcp = g.ipv4(SRC4, DST4, 6, g.tcp(40000, 443, 0x18, b"d" * 40))
    inner_v6 = ext6_chain(3)
    good = udp4()
    bad_ihl = bytearray(good)
    bad_ihl[ETH] = 0x43
    short_total = bytearray(good)
    short_total[ETH + 2:ETH + 4] = (12).to_bytes(2, "big")
    bad_version = bytearray(good)
    bad_version[ETH] = 0x75
    bad_doff = bytearray(tcp4())
    bad_doff[IP4 + 12] = 0x20
    arp = g.eth(0x0806, bytes(28))
    s4 = (SRC4_OFF + 1,)
    enc = ENCAP_FLOWS

    def one(data, expect="decoded", **kw):
        return [Template(data, expect, **kw)]

    reply = tcp4(src=DST4, dst=SRC4, sport=443, dport=40000, payload=b"r" * 200)
    return [
        ("tcp_normal", 0.25, NORMAL_TCP_FLOWS,
         [Template(tcp4(), "decoded", src=s4, port=(IP4,)),
          Template(reply, "decoded", src=(ETH + 17,), port=(IP4 + 2,))]),
        ("udp_normal", 0.10, NORMAL_UDP_FLOWS, one(good, src=s4, port=(IP4,))),
        ("tiny_flows", 0.10, None, one(udp4(b"t" * 4, dport=123), src=s4)),
        ("frag4_out_of_order_overlapping", 0.12, FRAG, frag4_pieces()),
        ("frag6_out_of_order_overlapping", 0.06, FRAG, frag6_pieces()),
        ("qinq", 0.04, enc, one(qinq(ip4_udp), src=(ETH + 8 + 13,))),
        ("mpls3", 0.04, enc, one(g.mpls_stack(3, ip4_tcp), src=(ETH + 12 + 13,))),
        ("gre_ipv4", 0.03, enc, one(gre(0x0800, ip4_udp), src=(IP4 + 4 + 13,))),
        ("gre_teb_vlan", 0.03, enc, one(gre(0x6558, g.vlan_stack(1, 0x0800, ip4_tcp)),
                                        src=(IP4 + 4 + 18 + 13,))),
        ("vxlan_vlan_ipv6_ext", 0.04, enc, one(vxlan(g.vlan_stack(2, 0x86dd, inner_v6)),
                                               src=(IP4 + 16 + 22 + 8 + 13,))),
        ("ipv6_ext8_tcp", 0.03, enc, one(g.eth(0x86dd, ext6_chain(8, 6, g.tcp(5000, 80, 2))),
                                         src=(SRC6_OFF + 13,))),
        ("ipv6_in_ipv4", 0.02, enc, one(g.eth(0x0800, g.ipv4(SRC4, DST4, 41, inner_v6)),
                                        src=s4)),
        ("vlan20", 0.01, enc, one(g.vlan_stack(20, 0x0800, ip4_udp),
                                  "skipped_bad_encapsulation")),
        ("mpls20", 0.01, enc, one(g.mpls_stack(20, ip4_udp), "skipped_bad_encapsulation")),
        ("ipv6_ext20", 0.01, enc, one(g.eth(0x86dd, ext6_chain(20)),
                                      "skipped_bad_ipv6_extension_headers")),
        ("cut_in_ethernet", 0.02, enc, one(good[:9], "skipped_truncated_link_header",
                                           wirelen=len(good))),
        ("cut_in_ipv4", 0.02, enc, one(good[:ETH + 11], "skipped_truncated_ip_header",
                                       wirelen=len(good))),
        ("cut_in_tcp", 0.02, enc, one(tcp4()[:IP4 + 9], "skipped_truncated_l4_header",
                                      wirelen=len(tcp4()))),
        ("zero_length", 0.005, enc, one(b"", "skipped_truncated_link_header", wirelen=60)),
        ("ipv4_ihl3", 0.01, enc, one(bytes(bad_ihl), "skipped_bad_ip_header")),
        ("ipv4_total_below_header", 0.01, enc, one(bytes(short_total), "skipped_bad_ip_header")),
        ("ip_version7", 0.01, enc, one(bytes(bad_version), "skipped_bad_ip_version")),
        ("tcp_data_offset2", 0.01, enc, one(bytes(bad_doff), "skipped_bad_l4_header")),
        ("arp", 0.01, enc, one(arp, "skipped_non_ip")),
        ("time_backwards", 0.005, enc, one(good, src=s4, ts_shift=-3600)),
        ("random_after_ipv4_ethertype", 0.02, None, one(g.eth(0x0800, bytes(50)), "any",
                                                        rand=ETH)),
        ("random_after_vlan", 0.01, None, one(g.eth(0x8100, bytes(70)), "any", rand=ETH)),
    ]


def blocks(n, seed):
    """Each block's first packet index, the kind of each of its packets, the RNG."""
    ks = kinds()
    w = np.array([k[1] for k in ks])
    rng = np.random.default_rng(seed)
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        yield start, rng.choice(len(ks), size=m, p=w / w.sum()), rng


def patch_be(arr, off, width, values):
    """Writes `values` big-endian into columns off..off+width of arr."""
    for b in range(width):
        arr[:, off + b] = (values >> (8 * (width - 1 - b))) & 255


def write(path, n, seed):
    ks = kinds()
    seen = np.zeros(len(ks), dtype=np.int64)  # packets of each kind written so far
    counts = {}
    total = 0
    with open(path + ".tmp", "wb") as f:
        f.write(g.header())
        for start, which, rng in blocks(n, seed):
            m = len(which)
            lens = np.zeros(m, dtype=np.int64)
            parts = []  # (positions in block, template, per-kind index j, flows)
            for k, (_, _, flows, temps) in enumerate(ks):
                pos = np.nonzero(which == k)[0]
                j = seen[k] + np.arange(len(pos), dtype=np.int64)
                seen[k] += len(pos)
                for t_i, t in enumerate(temps):
                    sel = (j % len(temps)) == t_i
                    if not sel.any():
                        continue
                    parts.append((pos[sel], t, j[sel] // len(temps), flows))
                    lens[pos[sel]] = 16 + len(t.data)
                    counts[t.expect] = counts.get(t.expect, 0) + int(sel.sum())
            offs = np.concatenate(([0], np.cumsum(lens)[:-1]))
            buf = np.zeros(int(lens.sum()), dtype=np.uint8)
            gidx = start + np.arange(m, dtype=np.int64)
            for pos, t, j, flows in parts:
                rows = np.tile(np.concatenate((np.zeros(16, np.uint8), t.data)), (len(pos), 1))
                us = gidx[pos] + int(t.ts_shift * 1e6)
                patch_le(rows, 0, T0 + us // 1000000)
                patch_le(rows, 4, us % 1000000)
                patch_le(rows, 8, np.full(len(pos), len(t.data)))
                patch_le(rows, 12, np.full(len(pos), t.wirelen))
                key = flow_key(flows, j)
                for off in t.src:
                    patch_be(rows, 16 + off, 3, key)
                for off in t.port:
                    patch_be(rows, 16 + off, 2, 1024 + key % 60000)
                for off in t.ipid:
                    patch_be(rows, 16 + off, 2, j & 0xffff)
                if t.rand is not None:
                    rows[:, 16 + t.rand:] = rng.integers(0, 256, size=rows[:, 16 + t.rand:].shape,
                                                         dtype=np.uint8)
                idx = offs[pos][:, None] + np.arange(rows.shape[1])
                buf[idx] = rows
            f.write(buf.tobytes())
            total += m
    os.replace(path + ".tmp", path)
    return total, counts


def flow_key(flows, j):
    """The flow (3 address bytes) of the j-th packet (or datagram) of a kind."""
    if flows is None:
        return j
    if flows == FRAG:
        return j >> 16  # the IP id is j's low 16 bits: (source, id) stays unique
    return j % flows


def patch_le(arr, off, values):
    arr[:, off:off + 4] = np.asarray(values, dtype="<u4").view(np.uint8).reshape(-1, 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("packets", type=int)
    ap.add_argument("--seed", type=int, default=17)
    a = ap.parse_args()
    total, counts = write(a.out, a.packets, a.seed)
    print(json.dumps({"packets": total, "expect": counts}, sort_keys=True))


if __name__ == "__main__":
    main()
