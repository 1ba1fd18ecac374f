"""The per-packet record (features/ssmf_record.h) and the record stream of `extract --records`.

RECORD_DTYPE is the contract as numpy sees it; tests/export checks it against the C header.
The stream is a 4096-byte header page (magic, versions, sizes, count) and then the records,
mapped with torch.frombuffer: no copy of a file (mmap) or of a bytes buffer.
"""
import mmap
import struct

import numpy as np
import torch

RECORD_DTYPE = np.dtype([
    ("ts_ns", "<u8"), ("flow_id", "<u4"), ("gap_us", "<u4"), ("ip_len", "<u2"),
    ("payload_len", "<u2"), ("tcp_window", "<u2"), ("pkt_index", "<u2"), ("tcp_flags", "u1"),
    ("ttl", "u1"), ("ip_proto", "u1"), ("direction", "u1"), ("flags", "u1"),
    ("reserved", "u1", (3,)),
])
RECORD_VERSION = 1

MAGIC = b"SSMFRECS"
STREAM_VERSION = 1
HEADER_SIZE = 4096
COUNT_OPEN = 0xFFFFFFFFFFFFFFFF
_HEADER = struct.Struct("<8sIIIIQ")


class StreamError(Exception):
    pass


def parse_header(page, record_version=RECORD_VERSION):
    """Checks a header page; returns the record count (None: until the end of the stream)."""
    if len(page) < HEADER_SIZE:
        raise StreamError(f"truncated header page: {len(page)} of {HEADER_SIZE} bytes")
    magic, ver, rver, rsize, hsize, count = _HEADER.unpack_from(page)
    if magic != MAGIC:
        raise StreamError("not an ssmflow record stream (bad magic)")
    if ver != STREAM_VERSION:
        raise StreamError(f"stream format version {ver}, this consumer reads {STREAM_VERSION}")
    if rver != record_version:
        raise StreamError(f"record version {rver}, the model expects {record_version}")
    if rsize != RECORD_DTYPE.itemsize or hsize != HEADER_SIZE:
        raise StreamError(f"record size {rsize} / header size {hsize}, expected "
                          f"{RECORD_DTYPE.itemsize} / {HEADER_SIZE}")
    return None if count == COUNT_OPEN else count


def records_from_buffer(buf, offset=0, count=None):
    """Records in a buffer (bytes, bytearray, mmap) as a (n, 32) uint8 tensor, no copy."""
    size = RECORD_DTYPE.itemsize
    avail = (len(buf) - offset) // size
    n = avail if count is None else count
    if n > avail:
        raise StreamError(f"truncated: the header says {n} records, {avail} are there")
    if n == 0:
        return torch.zeros((0, size), dtype=torch.uint8)
    return torch.frombuffer(buf, dtype=torch.uint8, offset=offset, count=n * size).view(n, size)


def read_stream(path, record_version=RECORD_VERSION):
    """A stream file ('-': stdin) as a (n, 32) uint8 tensor. A file is mapped (private
    copy-on-write mapping: zero copy, writable for torch); a pipe is read to its end."""
    if path == "-":
        import sys
        data = sys.stdin.buffer.read()
        count = parse_header(data[:HEADER_SIZE], record_version)
        tail = (len(data) - HEADER_SIZE) % RECORD_DTYPE.itemsize
        if count is None and tail:
            raise StreamError(f"stream ends inside a record ({tail} stray bytes)")
        return records_from_buffer(bytearray(data), HEADER_SIZE, count)
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    count = parse_header(mm[:HEADER_SIZE], record_version)
    body = len(mm) - HEADER_SIZE
    if count is not None and body != count * RECORD_DTYPE.itemsize:
        raise StreamError(f"{path}: header says {count} records, the file holds "
                          f"{body} bytes of records")
    return records_from_buffer(mm, HEADER_SIZE, count)


def iter_stream_chunks(fileobj, record_version=RECORD_VERSION, chunk_records=4096):
    """Records from a pipe as they arrive: (n, 32) uint8 tensors of up to chunk_records."""
    page = fileobj.read(HEADER_SIZE)
    count = parse_header(page, record_version)
    size = RECORD_DTYPE.itemsize
    seen = 0
    while count is None or seen < count:
        want = chunk_records if count is None else min(chunk_records, count - seen)
        data = fileobj.read(want * size)
        if not data:
            break
        if len(data) % size:
            raise StreamError(f"stream ends inside a record ({len(data) % size} stray bytes)")
        seen += len(data) // size
        yield records_from_buffer(bytearray(data))
    if count is not None and seen != count:
        raise StreamError(f"truncated stream: {seen} of {count} records")


def fields(raw):
    """(n, 32) uint8 -> {field: int64 tensor (n)}, little-endian, offsets from RECORD_DTYPE."""
    out = {}
    for name in RECORD_DTYPE.names:
        dt, off = RECORD_DTYPE.fields[name][:2]
        if dt.subdtype is not None:  # reserved bytes
            continue
        b = raw[:, off:off + dt.itemsize].to(torch.int64)
        v = b[:, 0].clone()
        for i in range(1, dt.itemsize):
            v |= b[:, i] << (8 * i)
        out[name] = v
    return out
