"""pcapng that libpcap refuses: interfaces that differ in link type or snap length.

Real files (reference/libpcap-rejects.tsv: tcpdump -r stops at the second
interface): packets read equal tshark's frame count, packets decoded equal
tshark's frames with IP or IPv6, TCP/UDP flows equal tshark's conversations,
a --filter keeps what tshark's display filter keeps on every link type of the
file, and the interface statistics (ISB count, isb_ifdrop, isb_osdrop summed over
the last ISB of each interface) equal what python-pcapng reads. The same
statistics are checked on single-interface files that libpcap reads itself.

A file written here by python-pcapng's writer, with Ethernet and raw IPv6
interfaces (snap lengths 65535 and 1500), ns and us timestamps, in either byte
order and with ISB drops, checks
the same plus each packet's timestamp against python-pcapng's; so does one
with NFLOG in a big-endian section (TLV headers in that byte order).
"""
import io
import os
import struct
import subprocess
import sys

import h5py
from pcapng import FileScanner, FileWriter, blocks

sys.path.insert(0, os.path.dirname(__file__))
from common import extract, fail, read_tsv, tmpdir  # noqa: E402
from tshark_pairs import dataset_pairs, tshark_conversations  # noqa: E402
from test_linktypes import tshark_count  # noqa: E402

REFUSAL = "different from the"  # libpcap's "... of the first interface"
LIBPCAP_READ_WITH_ISB = [
    "robustness/tcpdump/tests/dhcp-option-108.pcapng",
    "robustness/wireshark-debsrc/test/captures/ikev2-decrypt-aes256cbc.pcapng",
    "robustness/wireshark-debsrc/test/captures/wpa-gcmp-256.pcapng.gz",
]


def refused_files(data):
    return [row[0] for row in read_tsv(os.path.join(data, "reference", "libpcap-rejects.tsv"))
            if len(row) > 3 and REFUSAL in row[3]]


def isb_stats(path):
    """(ISB blocks, ifdrop, osdrop) by python-pcapng: the last ISB per interface counts."""
    import gzip
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    last, n, section = {}, 0, 0
    with opener(path, "rb") as f:
        for b in FileScanner(f):
            if isinstance(b, blocks.SectionHeader):
                section += 1
            elif isinstance(b, blocks.InterfaceStatistics):
                n += 1
                o = b.options
                last[(section, b.interface_id)] = (o.get("isb_ifdrop") or 0,
                                                   o.get("isb_osdrop") or 0)
    return n, sum(v[0] for v in last.values()), sum(v[1] for v in last.values())


def packet_times_ns(path):
    """EPB timestamps in ns: raw units times the interface's if_tsresol (python-pcapng)."""
    out = []
    with open(path, "rb") as f:
        for b in FileScanner(f):
            if isinstance(b, blocks.EnhancedPacket):
                raw = b.timestamp_high << 32 | b.timestamp_low
                out.append(raw * int(round(b.timestamp_resolution * 1e9)))
    return out


def write_mixed(path, endian, same_link=False):
    """One section: Ethernet (ns) and raw IPv6 (us, snaplen 1500), then ISB drops.
    same_link: both interfaces Ethernet with one snap length, which libpcap reads."""
    ip = bytes.fromhex("4500001c00010000401100000a0000010a000002") + struct.pack(">HHHH",
                                                                                1000, 53, 8, 0)
    ip6 = (bytes.fromhex("6000000000081140") + bytes(15) + b"\x01" + bytes(15) + b"\x02" +
           struct.pack(">HHHH", 5000, 443, 8, 0))
    eth = bytes(12) + b"\x08\x00" + ip
    buf = io.BytesIO()
    shb = blocks.SectionHeader(endianness=endian, options={"shb_userappl": "ssmflow test"})
    shb.new_member(blocks.InterfaceDescription, link_type=1, snaplen=65535,
                   options={"if_tsresol": b"\x09"})
    if same_link:
        shb.new_member(blocks.InterfaceDescription, link_type=1, snaplen=65535)
        ip6 = bytes(12) + b"\x86\xdd" + ip6
    else:
        shb.new_member(blocks.InterfaceDescription, link_type=229, snaplen=1500)
    w = FileWriter(buf, shb)
    for k, (iface, pkt) in enumerate([(0, eth), (1, ip6), (0, eth), (1, ip6)]):
        e = shb.new_member(blocks.EnhancedPacket, interface_id=iface, packet_data=pkt)
        ts = 1_600_000_000 * (10**9 if iface == 0 else 10**6) + k
        e.timestamp_high, e.timestamp_low = ts >> 32, ts & 0xffffffff
        w.write_block(e)
    for iface, (ifd, osd) in enumerate([(7, 3), (11, 0)]):
        w.write_block(shb.new_member(blocks.InterfaceStatistics, interface_id=iface,
                                     timestamp_high=0, timestamp_low=0,
                                     options={"isb_ifdrop": ifd, "isb_osdrop": osd}))
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def write_nflog_big_endian(path, data):
    """The NFLOG packets of tcpdump's nflog.pcap (little-endian TLVs) in a big-endian
    section, TLV lengths and types turned big-endian as the capturing host would
    write them, beside an Ethernet interface of another snap length."""
    raw = open(os.path.join(data, "robustness/tcpdump/tests/nflog.pcap"), "rb").read()
    if raw[:4] != b"\xd4\xc3\xb2\xa1":
        fail("nflog.pcap is expected to be a little-endian pcap")
    pkts, off = [], 24
    while off + 16 <= len(raw):
        cl = struct.unpack("<I", raw[off + 8:off + 12])[0]
        p = bytearray(raw[off + 16:off + 16 + cl])
        o = 4
        while o + 4 <= len(p):
            ln, typ = struct.unpack_from("<HH", p, o)
            struct.pack_into(">HH", p, o, ln, typ)
            if (ln + 3) & ~3 < 4:
                break
            o += (ln + 3) & ~3
        pkts.append(bytes(p))
        off += 16 + cl
    buf = io.BytesIO()
    shb = blocks.SectionHeader(endianness=">")
    shb.new_member(blocks.InterfaceDescription, link_type=239, snaplen=65535)
    shb.new_member(blocks.InterfaceDescription, link_type=1, snaplen=1500)
    w = FileWriter(buf, shb)
    for k, p in enumerate(pkts):
        e = shb.new_member(blocks.EnhancedPacket, interface_id=0, packet_data=p)
        e.timestamp_high, e.timestamp_low = 0, k
        w.write_block(e)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def check(ssmflow, cap, td, name):
    out = os.path.join(td, "o.h5")
    p = extract(ssmflow, [cap], out, "--idle-timeout", "0", "--active-timeout", "0",
                "--tcp-close", "no", check=False)
    if p.returncode != 0:
        fail(f"{name}: extract exited {p.returncode}: {p.stderr.strip()}")
    with h5py.File(out, "r") as f:
        a, inp, flows = f.attrs, f["inputs"][0], f["flows"][:]
        got = {"packets_read": int(a["packets_read"]), "packets_decoded": int(a["packets_decoded"]),
               "isb": (int(inp["isb_count"]), int(inp["isb_ifdrop"]), int(inp["isb_osdrop"]))}
        want = {"packets_read": tshark_count(cap), "packets_decoded": tshark_count(cap, "ip || ipv6"),
                "isb": isb_stats(cap)}
        if got != want or inp["status"].decode() != "ok":
            fail(f"{name}: {got}, status {inp['status']}; expected {want}")
        ours = dataset_pairs(flows)
        theirs = tshark_conversations(cap)
        if ours != theirs:
            fail(f"{name}: flows {sorted(ours.items())} vs tshark {sorted(theirs.items())}")
        info = subprocess.run([ssmflow, "info", out], capture_output=True, text=True).stdout
        if want["isb"][0] and f"{want['isb'][1]} dropped by the interface" not in info:
            fail(f"{name}: ssmflow info does not show the drops:\n{info}")
        print(f"ok {name}: {got}, {len(ours)} TCP/UDP flows")
        return f["packets"]["ts_ns"][:]


def main(ssmflow, data):
    files = refused_files(data)
    if len(files) < 4:
        fail(f"expected the multi-interface pcapng files in libpcap-rejects.tsv, got {files}")
    with tmpdir() as td:
        for rel in files:
            check(ssmflow, os.path.join(data, rel), td, rel)
        for endian in ("<", ">"):
            for same in (False, True):
                cap = os.path.join(td, "mixed.pcapng")
                write_mixed(cap, endian, same)
                kind = "one link type" if same else "mixed link types"
                ts = check(ssmflow, cap, td, f"written file, {kind} ({endian})")
                want = sorted(packet_times_ns(cap))
                if sorted(int(t) for t in ts) != want:
                    fail(f"timestamps {sorted(ts)} vs python-pcapng {want}")
        cap = os.path.join(td, "nflog-be.pcapng")
        write_nflog_big_endian(cap, data)
        check(ssmflow, cap, td, "written file, NFLOG in a big-endian section")
        # --filter on a file with Ethernet and BSD loopback interfaces: compiled per
        # link type, it keeps what tshark's "udp" keeps on both.
        cap = os.path.join(data, next(r for r in files if r.endswith("many_interfaces.pcapng.1")))
        out = os.path.join(td, "f.h5")
        extract(ssmflow, [cap], out, "--filter", "udp")
        with h5py.File(out, "r") as f:
            n, want = len(f["packets"]), tshark_count(cap, "udp")
        if n != want:
            fail(f"--filter udp on {cap}: {n} records, tshark {want} UDP frames")
        print(f"ok --filter udp: {n} records")
        # Statistics of files libpcap reads itself (plain and gzip-compressed).
        for rel in LIBPCAP_READ_WITH_ISB:
            check(ssmflow, os.path.join(data, rel), td, rel)
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
