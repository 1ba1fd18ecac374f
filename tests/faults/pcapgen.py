"""Writes pcap files byte by byte for the fault and hostile-input tests (no scapy).

Classic pcap, microsecond timestamps, little-endian. Checksums are left zero:
ssmflow does not verify them.
"""
import struct

LINKTYPE_ETHERNET = 1


def header(linktype=LINKTYPE_ETHERNET, snaplen=65535):
    return struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype)


def record(ts, data, caplen=None, wirelen=None):
    """One record; caplen/wirelen override the lengths written in its header."""
    sec = int(ts)
    usec = int(round((ts - sec) * 1e6))
    cl = len(data) if caplen is None else caplen
    wl = len(data) if wirelen is None else wirelen
    return struct.pack("<IIII", sec, usec, cl, wl) + data


def eth(ethertype, payload):
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + \
        struct.pack(">H", ethertype) + payload


def vlan_stack(depth, inner_ethertype, payload):
    """Ethernet with `depth` 802.1Q tags (VLAN ids 1..depth, innermost last)."""
    tags = b"".join(struct.pack(">HH", i + 1, 0x8100 if i + 1 < depth else inner_ethertype)
                    for i in range(depth))
    return eth(0x8100, tags + payload)


def mpls_stack(depth, payload):
    """Ethernet, `depth` MPLS labels (bottom of stack on the last), then IP."""
    labels = b"".join(struct.pack(">I", (16 + i) << 12 | (0x100 if i + 1 == depth else 0) | 64)
                      for i in range(depth))
    return eth(0x8847, labels + payload)


def ipv4(src, dst, proto, payload, ident=0, frag_offset=0, more_fragments=False, ttl=64):
    flags = (0x2000 if more_fragments else 0) | (frag_offset // 8)
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, ttl, proto, 0,
                       bytes(src), bytes(dst)) + payload


def ipv6(src, dst, next_header, payload, hops=64):
    return struct.pack(">IHBB16s16s", 6 << 28, len(payload), next_header, hops, bytes(src),
                       bytes(dst)) + payload


def ipv6_ext(next_header, length8=0):
    """A hop-by-hop/destination-options style header: next header, length, padding."""
    return struct.pack(">BB", next_header, length8) + bytes(6 + 8 * length8)


def udp(sport, dport, payload=b""):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport, dport, flags, payload=b""):
    return struct.pack(">HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 65535, 0, 0) + payload


def v4(n):
    """The IPv4 address 10.x.y.z for integer n."""
    return bytes([10, (n >> 16) & 255, (n >> 8) & 255, n & 255])


def write_many_udp_flows(path, n, t0=1700000000, step_us=1):
    """n one-packet UDP flows, each from its own source address 11.x.y.z
    (n < 2**24), one microsecond apart. Built with numpy: 2M packets in a second."""
    import numpy as np
    pkt = eth(0x0800, ipv4(v4(1), v4(2), 17, udp(1000, 53, b"\0" * 4)))
    rec = np.frombuffer(record(0, pkt), dtype=np.uint8)
    arr = np.tile(rec, (n, 1))
    i = np.arange(n, dtype=np.uint64)
    us = i * step_us
    arr[:, 0:4] = (t0 + us // 1000000).astype("<u4").view(np.uint8).reshape(n, 4)
    arr[:, 4:8] = (us % 1000000).astype("<u4").view(np.uint8).reshape(n, 4)
    src = 16 + 14 + 12
    arr[:, src] = 11
    arr[:, src + 1] = (i >> 16) & 255
    arr[:, src + 2] = (i >> 8) & 255
    arr[:, src + 3] = i & 255
    with open(path, "wb") as f:
        f.write(header())
        f.write(arr.tobytes())
