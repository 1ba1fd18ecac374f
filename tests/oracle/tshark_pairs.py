"""Independent views of a capture from tshark, and the same views of a dataset."""
import ipaddress
import subprocess

import h5py


def tshark_conversations(capture):
    """{(proto, endpoint, endpoint): conversations} from `tshark -z conv,tcp -z conv,udp`."""
    out = subprocess.run(["tshark", "-r", capture, "-q", "-z", "conv,tcp", "-z", "conv,udp"],
                         capture_output=True, text=True).stdout
    proto, convs = None, {}
    for line in out.splitlines():
        if "TCP Conversations" in line:
            proto = 6
        elif "UDP Conversations" in line:
            proto = 17
        elif "<->" in line and proto:
            a, _, b = line.split()[:3]
            key = (proto,) + tuple(sorted([a, b]))
            convs[key] = convs.get(key, 0) + 1
    return convs


def endpoint(addr, version, port):
    raw = bytes(addr[:4]) if version == 4 else bytes(addr)
    ip = ipaddress.ip_address(raw)
    return f"{ip}:{port}"


def dataset_flows(path):
    with h5py.File(path, "r") as f:
        return f["flows"][:]


def dataset_pairs(flows, protos=(6, 17)):
    """{(proto, endpoint, endpoint): flows}, VLAN and tunnel ids ignored."""
    pairs = {}
    for r in flows:
        if int(r["protocol"]) not in protos:
            continue
        v = int(r["ip_version"])
        key = (int(r["protocol"]),) + tuple(sorted([
            endpoint(r["src_addr"], v, int(r["src_port"])),
            endpoint(r["dst_addr"], v, int(r["dst_port"]))]))
        pairs[key] = pairs.get(key, 0) + 1
    return pairs


def tshark_direction_totals(capture):
    """{(proto, src endpoint, dst endpoint): [packets, bytes]} over TCP/UDP packets, by the
    outermost IP and transport header (tshark -T fields, first occurrence)."""
    fields = ["ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport", "tcp.dstport",
              "udp.srcport", "udp.dstport", "frame.len"]
    cmd = ["tshark", "-r", capture, "-T", "fields", "-E", "occurrence=f", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    totals = {}
    for line in out.splitlines():
        c = line.split("\t")
        if len(c) != len(fields):
            continue
        src, dst = c[0] or c[1], c[2] or c[3]
        if c[4]:
            proto, sp, dp = 6, c[4], c[5]
        elif c[6]:
            proto, sp, dp = 17, c[6], c[7]
        else:
            continue
        key = (proto, f"{src}:{sp}", f"{dst}:{dp}")
        t = totals.setdefault(key, [0, 0])
        t[0] += 1
        t[1] += int(c[8])
    return totals


def dataset_direction_totals(flows):
    totals = {}
    for r in flows:
        if int(r["protocol"]) not in (6, 17):
            continue
        v = int(r["ip_version"])
        a = endpoint(r["src_addr"], v, int(r["src_port"]))
        b = endpoint(r["dst_addr"], v, int(r["dst_port"]))
        p = int(r["protocol"])
        for key, pk, by in (((p, a, b), "fwd_packets", "fwd_bytes"),
                            ((p, b, a), "bwd_packets", "bwd_bytes")):
            if int(r[pk]):
                t = totals.setdefault(key, [0, 0])
                t[0] += int(r[pk])
                t[1] += int(r[by])
    return totals
