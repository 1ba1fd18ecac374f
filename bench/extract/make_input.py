"""Builds the extract benchmark's input from real captures.

Every Ethernet capture of ../shared/data/traffic/nDPI that libpcap reads cleanly
(reference/nDPI.libpcap.tsv), fuzz files excluded, concatenated on one timeline:
each file keeps its packet order and its gaps (capped at 1 s, since some of these
captures span years), files follow each other 1 ms apart, and the whole sequence
repeats REPEAT times with 300 s of silence between repeats, so each repeat's flows
end by idle timeout before the next begins. Output: classic pcap, ns timestamps.
"""
import os
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            e = "<"
        elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
            e = ">"
        else:
            return  # pcapng: skipped (this builder reads classic pcap only)
        nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
        if struct.unpack(e + "I", hdr[20:24])[0] != 1:
            return  # not Ethernet
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            sec, frac, incl, orig = struct.unpack(e + "IIII", rh)
            data = f.read(incl)
            if len(data) < incl:
                return
            yield sec * 10**9 + (frac if nano else frac * 1000), orig, data


def main(data, out, repeat):
    root = os.path.join(data, "reference", "nDPI.libpcap.tsv")
    files = []
    for line in open(root):
        rel, rc = line.split("\t")[:2]
        if rc == "0" and "fuzz" not in os.path.basename(rel):
            files.append(os.path.join(data, rel))
    files.sort()
    base = []
    for path in files:
        base.append(list(packets(path)))
    t = 1_600_000_000 * 10**9
    n = 0
    with open(out, "wb") as o:
        o.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 262144, 1))
        for _ in range(repeat):
            for pk in base:
                prev = None
                for ts, orig, d in pk:
                    gap = 0 if prev is None else min(max(ts - prev, 0), 10**9)
                    prev = ts
                    t += gap
                    o.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(d), orig))
                    o.write(d)
                    n += 1
                t += 10**6
            t += 300 * 10**9
    print(f"{out}: {n} packets from {sum(1 for b in base if b)} captures x {repeat}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
