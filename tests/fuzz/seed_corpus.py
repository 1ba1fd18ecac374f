#!/usr/bin/python3
"""Seeds the fuzz corpora: OUT/<target>/ for every fuzz target.

    seed_corpus.py OUT DATA [MAKE_SEED_CHECKPOINT]

DATA is ../shared/data: small captures of the robustness corpus seed the
capture reader (whole files, some gzip/zstd compressed here), the pcapng block
reader (the pcapng ones, decompressed) and the decoder (single packets,
prefixed by the decoder target's link type byte). The label_rules and
safetensors targets start from their corpus in the repo (tests/fuzz/corpus/). The flow
table and dataset targets take structured inputs, written here;
MAKE_SEED_CHECKPOINT (built beside the fuzz targets) writes checkpoints. Deterministic: the same
inputs give the same corpora.
"""
import gzip
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

# The decoder target's link type table (fuzz_decode.c), as LINKTYPE_ values.
DECODE_LINKTYPES = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 12: 5, 14: 6, 101: 7, 228: 8, 229: 9,
                    104: 10, 9: 11, 50: 12, 192: 13, 105: 14, 127: 15, 239: 16, 10: 17}
MAX_CAPTURE = 16 * 1024  # bytes: small files keep executions fast
MAX_DECODE_SEEDS = 3000


def put(outdir, data):
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(data)


def small_captures(data):
    root = os.path.join(data, "robustness")
    out = []
    for d, _, fs in os.walk(root):
        for f in fs:
            p = os.path.join(d, f)
            if os.path.getsize(p) <= MAX_CAPTURE:
                out.append(p)
    return sorted(out)


def pcap_packets(blob):
    """Packets of a classic pcap file (any byte order, us or ns): (linktype, bytes)."""
    if len(blob) < 24:
        return
    magic = blob[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    linktype = struct.unpack(e + "I", blob[20:24])[0] & 0x0fffffff
    off = 24
    while off + 16 <= len(blob):
        caplen = struct.unpack(e + "I", blob[off + 8:off + 12])[0]
        if caplen > 65535 or off + 16 + caplen > len(blob):
            return
        yield linktype, blob[off + 16:off + 16 + caplen]
        off += 16 + caplen


def seed_capture_and_decode(data, out):
    cap_dir = os.path.join(out, "capture")
    dec_dir = os.path.join(out, "decode")
    n_dec = 0
    for i, p in enumerate(small_captures(data)):
        blob = open(p, "rb").read()
        put(cap_dir, blob)
        if i % 7 == 0 and not blob.startswith(b"\x1f\x8b"):
            put(cap_dir, gzip.compress(blob, mtime=0))
        if i % 11 == 0 and shutil.which("zstd"):
            z = subprocess.run(["zstd", "-q", "-c", "-3"], input=blob, capture_output=True)
            if z.returncode == 0:
                put(cap_dir, z.stdout)
        if p.endswith(".gz"):
            try:
                blob = gzip.decompress(blob)
            except (OSError, EOFError):
                continue
        if blob.startswith(b"\x0a\x0d\x0d\x0a"):  # our pcapng reader takes it decompressed
            put(os.path.join(out, "pcapng"), blob)
        for k, (lt, pkt) in enumerate(pcap_packets(blob)):
            if lt in DECODE_LINKTYPES and k < 8 and n_dec < MAX_DECODE_SEEDS:
                put(dec_dir, bytes([DECODE_LINKTYPES[lt]]) + pkt)
                n_dec += 1


def seed_flowtable(out):
    """Structured sequences (fuzz_flowtable.c's 8 bytes per packet)."""
    d = os.path.join(out, "flowtable")
    rnd = random.Random(8)
    # a TCP handshake and close between hosts 1 and 2, ports 80 and 40000
    hs = [(0, 0x11, 0x00 | 4 << 3, 0, 0x02), (1, 0x0a, 0x00 | 0 << 3, 4, 0x12),
          (1, 0x11, 0x00 | 4 << 3, 0, 0x10), (5, 0x11, 0x00 | 4 << 3, 0, 0x11),
          (5, 0x0a, 0x00 | 0 << 3, 4, 0x11), (1, 0x11, 0x00 | 4 << 3, 0, 0x10)]
    pk = b"".join(bytes([t, a, p, q, fl, 0, 0, 0]) for t, a, p, q, fl in hs)
    put(d, bytes([4, 16, 1]) + pk)
    for n in range(40):
        hdr = bytes([rnd.randrange(256), rnd.randrange(256), rnd.randrange(8)])
        put(d, hdr + bytes(rnd.randrange(256) for _ in range(8 * rnd.randrange(1, 64))))


FLOW_ROW = 368  # sizeof(struct ssmf_flow_summary)


def seed_dataset(out):
    """Structured descriptions (fuzz_dataset.c): flags, records, input rows, flow rows."""
    d = os.path.join(out, "dataset")

    def row(offset, count, packets):
        r = bytearray(FLOW_ROW)
        struct.pack_into("<QQ", r, 24, offset, packets)  # packet_offset, fwd_packets
        struct.pack_into("<I", r, 196, count)             # packet_count
        return bytes(r)

    put(d, bytes([0x00, 8, 0x00]) + row(0, 4, 4) + row(4, 4, 9))
    put(d, bytes([0x40, 8, 0x02]) + row(0, 8, 8))
    put(d, bytes([0x40, 0, 0x01]))
    put(d, bytes([0x00, 3, 0x00]) + row(2, 2, 2))  # points outside /packets


def seed_checkpoint(out, maker):
    d = os.path.join(out, "checkpoint")
    if not maker:
        return
    with tempfile.TemporaryDirectory() as td:
        for args in ([], ["8", "2"], ["16", "1"]):
            ck = os.path.join(td, "m.ckpt")
            if subprocess.run([maker, ck, *args]).returncode == 0:
                put(d, open(ck, "rb").read())


def seed_labels(data, out):
    """Label files: the labelled sets' CSVs (first lines), and a Zeek-style log."""
    d = os.path.join(out, "labels")
    for dirpath, _, files in os.walk(os.path.join(data, "labeled")):
        for f in sorted(files):
            if f.endswith((".csv", ".log", ".labels")):
                with open(os.path.join(dirpath, f), "rb") as fh:
                    put(d, b"".join(fh.readline() for _ in range(12)))
    put(d, b"#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\t"
           b"id.resp_p\tproto\tlabel\n1499000000.0\tC1\t192.168.0.1\t40000\t10.0.0.2\t80"
           b"\ttcp\tMalicious\n")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, data = sys.argv[1], sys.argv[2]
    maker = sys.argv[3] if len(sys.argv) > 3 else None
    for t in ("decode", "capture", "pcapng", "flowtable", "dataset", "checkpoint", "labels",
              "label_rules", "safetensors"):
        os.makedirs(os.path.join(out, t), exist_ok=True)
    seed_capture_and_decode(data, out)
    seed_flowtable(out)
    seed_dataset(out)
    seed_checkpoint(out, maker)
    seed_labels(data, out)
    for t in sorted(os.listdir(out)):
        print(f"{t}: {len(os.listdir(os.path.join(out, t)))} seeds")


if __name__ == "__main__":
    main()
