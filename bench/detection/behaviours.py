#!/usr/bin/python3
"""Writes captures of the attacks that show only across a host's flows, as their tools
behave on the wire, for bench/detection/eval.py --behaviours (no capture of them is in
../shared/data). Headers only matter to ssmflow (no payload is read), so payloads are
zeros of the sizes the protocols use; every flow of these files is an attack flow.

    behaviours.py OUTDIR [--seed N]

- ssh_bruteforce.pcap: one client opens SSH connections to one server, a few in parallel,
  each a key exchange and three failed password attempts (patator/hydra against
  OpenSSH); 400 attempts over about 8 minutes, on a LAN (RTT ~0.5 ms).
- https_beacon.pcap: an implant calls its C&C server over TLS every 60 s with 15 %
  jitter (Cobalt Strike's default sleep and jitter), a short request and reply each
  time, a new connection per call, for 90 minutes (RTT ~40 ms).
- stratum_mining.pcap: a miner keeps a Stratum connection to its pool on port 3333:
  login, then job notifications from the pool every 20-60 s and share submissions from
  the miner every ~30 s (Poisson), each acknowledged; the connection drops and is
  reopened twice in the hour.
- icmp_sweep.pcap: an echo-request sweep of a /22 (nmap -sn), one probe per address,
  ~1,000 probes, answered by 1 in 8.
- dns_burst.pcap: a DNS tunnel client (iodine/dnscat2-style): a query every 50-300 ms to
  one resolver for 5 minutes, TXT-sized answers.

The sizes, periods and counts are what the tools do by default, not tuned to ssmflow:
change them with the constants below and the evaluation says what moved.
"""
import argparse
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "faults"))
import pcapgen  # noqa: E402

T0 = 1764547200.0  # 2025-12-01 00:00 UTC


def ip(a):
    return bytes(int(x) for x in a.split("."))


def ipv4(src, dst, proto, payload, ident, ttl):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, ttl,
                       proto, 0, ip(src), ip(dst)) + payload


class Tcp:
    """One TCP connection: sequence numbers, windows and ACKs as a Linux stack sends them."""

    def __init__(self, out, rnd, cli, srv, sport, dport, t, rtt, ttl_c=64, ttl_s=64):
        self.out, self.rnd, self.t, self.rtt = out, rnd, t, rtt
        self.end = {0: (cli, srv, sport, dport, ttl_c), 1: (srv, cli, dport, sport, ttl_s)}
        self.seq = {0: rnd.getrandbits(32), 1: rnd.getrandbits(32)}
        self.ident = {0: rnd.getrandbits(16), 1: rnd.getrandbits(16)}
        self.win = {0: 502, 1: 509}

    def send(self, d, flags, size=0, opts=b""):
        src, dst, sp, dp, ttl = self.end[d]
        hl = (20 + len(opts)) // 4
        ack = self.seq[1 - d] if flags & 0x10 else 0
        seg = struct.pack(">HHIIBBHHH", sp, dp, self.seq[d] & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          hl << 4, flags, self.win[d], 0, 0) + opts + bytes(size)
        self.seq[d] += size + (1 if flags & 0x03 else 0)
        self.ident[d] += 1
        pkt = pcapgen.eth(0x0800, ipv4(src, dst, 6, seg, self.ident[d], ttl))
        self.out.append((self.t, pkt))

    def wait(self, s):
        self.t += s

    def half_rtt(self):
        return self.rtt / 2 * self.rnd.uniform(0.9, 1.2)

    def open(self):
        # MSS 1460, SACK permitted, timestamps, NOP, window scale 7: Linux's SYN options
        syn_opts = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + bytes(8) + b"\x01\x03\x03\x07"
        self.send(0, 0x02, opts=syn_opts)
        self.wait(self.half_rtt())
        self.send(1, 0x12, opts=syn_opts)
        self.wait(self.half_rtt())
        self.send(0, 0x10)

    def data(self, d, size):
        """`size` bytes from side d in MSS segments, the peer's ACK after each two."""
        mss = 1448
        n = 0
        while size > 0:
            seg = min(size, mss)
            size -= seg
            self.send(d, 0x18 if size == 0 else 0x10, seg)
            n += 1
            self.wait(0.00002)
        self.wait(self.half_rtt())
        if n >= 2 or self.rnd.random() < 0.5:
            self.send(1 - d, 0x10)

    def exchange(self, d, size, think=0.0):
        self.wait(think)
        self.data(d, size)
        self.wait(self.half_rtt())

    def close(self, d=0):
        self.send(d, 0x11)
        self.wait(self.half_rtt())
        self.send(1 - d, 0x11)
        self.wait(self.half_rtt())
        self.send(d, 0x10)


def write(path, pkts):
    pkts.sort(key=lambda x: x[0])
    with open(path, "wb") as f:
        f.write(pcapgen.header())
        for ts, p in pkts:
            f.write(pcapgen.record(ts, p))


def ssh_bruteforce(rnd):
    out, t, port = [], T0, 40000
    for i in range(400):
        t += rnd.expovariate(1 / 1.2)
        port += rnd.randint(1, 3)
        c = Tcp(out, rnd, "192.168.10.14", "192.168.10.50", port, 22, t, 0.0005)
        c.open()
        c.exchange(1, 41)  # server banner
        c.exchange(0, 32)  # client banner
        c.exchange(0, 1392)  # client KEXINIT
        c.exchange(1, 1080)  # server KEXINIT
        c.exchange(0, 48)  # ECDH init
        c.exchange(1, 572, 0.002)  # ECDH reply + NEWKEYS
        c.exchange(0, 16)  # NEWKEYS
        c.exchange(0, 44)  # service request
        c.exchange(1, 44)
        for _ in range(3):  # password attempts, each refused after the server's delay
            c.exchange(0, 84, 0.001)
            c.exchange(1, 52, rnd.uniform(1.5, 2.5))
        c.close(1)
    return out


def https_beacon(rnd):
    out, t, port = [], T0, 49800
    for i in range(90):
        t += 60 * rnd.uniform(0.85, 1.15)
        port += 1
        c = Tcp(out, rnd, "10.1.4.27", "185.220.101.33", port, 443, t, 0.04, 128, 52)
        c.open()
        c.exchange(0, 517)  # ClientHello
        c.exchange(1, 3940)  # ServerHello, certificate, done
        c.exchange(0, 126)  # key exchange, finished
        c.exchange(1, 51)
        c.exchange(0, rnd.choice([318, 334, 350]))  # GET with the session cookie
        c.exchange(1, rnd.choice([245, 261, 1024]))  # tasking (mostly empty)
        c.close(0)
    return out


def stratum_mining(rnd):
    out, t = [], T0
    for conn in range(3):
        t += rnd.uniform(1, 5)
        c = Tcp(out, rnd, "10.1.7.3", "51.255.34.118", 51000 + conn, 3333, t, 0.03, 64, 55)
        c.open()
        c.exchange(0, 186)  # mining.subscribe
        c.exchange(1, 221)
        c.exchange(0, 151)  # mining.authorize
        c.exchange(1, 372)  # result + first job
        end = c.t + 1200 * rnd.uniform(0.9, 1.1)
        next_job = c.t + rnd.uniform(20, 60)
        next_share = c.t + rnd.expovariate(1 / 30)
        while c.t < end:
            if next_job < next_share:
                c.t = max(c.t, next_job)
                c.exchange(1, rnd.randint(330, 420))  # mining.notify
                next_job = c.t + rnd.uniform(20, 60)
            else:
                c.t = max(c.t, next_share)
                c.exchange(0, rnd.randint(160, 190))  # mining.submit
                c.exchange(1, 43)  # {"result":true}
                next_share = c.t + rnd.expovariate(1 / 30)
        c.send(1, 0x14)  # the pool resets the connection
        t = c.t
    return out


def icmp_sweep(rnd):
    out, t = [], T0
    for i in range(1024):
        t += rnd.uniform(0.0005, 0.003)
        dst = f"172.20.{i >> 8}.{i & 255}"
        echo = struct.pack(">BBHHH", 8, 0, 0, 0x1d2b, 1) + bytes(0)
        out.append((t, pcapgen.eth(0x0800, ipv4("172.20.3.250", dst, 1, echo, i, 64))))
        if rnd.random() < 1 / 8:
            rep = struct.pack(">BBHHH", 0, 0, 0, 0x1d2b, 1)
            out.append((t + 0.0004, pcapgen.eth(0x0800, ipv4(dst, "172.20.3.250", 1, rep, i, 64))))
    return out


def dns_burst(rnd):
    out, t, i = [], T0, 0
    while t < T0 + 300:
        t += rnd.uniform(0.05, 0.3)
        i += 1
        sport = rnd.randint(1024, 65535)
        q = pcapgen.udp(sport, 53, bytes(rnd.randint(90, 140)))
        out.append((t, pcapgen.eth(0x0800, ipv4("10.1.9.44", "10.1.0.2", 17, q, i, 64))))
        a = pcapgen.udp(53, sport, bytes(rnd.randint(180, 250)))
        out.append((t + 0.02, pcapgen.eth(0x0800, ipv4("10.1.0.2", "10.1.9.44", 17, a, i, 64))))
    return out


BEHAVIOURS = {"ssh_bruteforce": ssh_bruteforce, "https_beacon": https_beacon,
              "stratum_mining": stratum_mining, "icmp_sweep": icmp_sweep,
              "dns_burst": dns_burst}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    for name, fn in BEHAVIOURS.items():
        write(os.path.join(a.outdir, name + ".pcap"), fn(random.Random(f"{a.seed}:{name}")))


if __name__ == "__main__":
    main()
