"""The host level (ssmflow-formats(5), "THE HOST EVENT"): each endpoint's sequence of flow
events, built from flows as the harvester (and `ssmflow score`) builds them, lowered into
record rows, and scored by the host level's bundle (`ssmflow export` writes it beside the
packet level's, "level": "host" in its metadata).

Written from the format's description, apart from ssmflow's C code: the tests use it as
the independent check of the C event builder and of the host model's math.

Each event also carries the host's recent activity (rate_events, rate_service,
rate_new_peers and, from host event version 3, rate_returns: decayed counts in 1/16
events), judged by the bundle's "activity_profile" (`activity_scores`).
"""
import json
import math

import numpy as np
import torch

from .model import sequence_scores
from .records import RECORD_DTYPE

SKETCH = 16
SVC_SHIFT = 20
PEER_GAP_NONE = 0xFFFFFFFF
FNV_BASIS, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3
GOLDEN = 0x9E3779B97F4A7C15
M64, M32 = (1 << 64) - 1, (1 << 32) - 1
NOVEL_PEER, NOVEL_PORT, NOVEL_SERVICE = 1, 2, 4
REC_IPV6, REC_FRAGMENT, REC_TUNNEL, REC_TRUNCATED, REC_OUT_OF_ORDER = 1, 2, 4, 8, 16
RATE_ONE = 16
HOST_HALF_US, SVC_HALF_US, RETURN_HALF_US = 60_000_000, 300_000_000, 600_000_000
RETURN_IDLE_US = 10_000_000
# 2^(-k/16) in 1/65536 units
HALF_FRAC = [round(65536 * 2 ** (-k / 16)) for k in range(16)]


def _decay(v, dt_us, half_us):
    """v after dt_us, halving every half_us (whole half-lives, then 16ths of one)."""
    halves = dt_us // half_us
    if halves >= 32:
        return 0
    return ((v >> halves) * HALF_FRAC[(dt_us % half_us) * 16 // half_us]) >> 16


def _add(v, k):
    return min(v + k, M32)


def _addr_hash(addr, ipv):
    h = FNV_BASIS ^ ipv
    for b in addr[:4 if ipv == 4 else 16]:
        h = ((h ^ b) * FNV_PRIME) & M64
    return h


def _tag(h):
    t = (h ^ (h >> 32)) & M32
    return t or 1


class _Host:
    def __init__(self):
        self.events = 0
        self.last = 0
        self.peer = [0] * SKETCH
        self.port = [0] * SKETCH
        self.svc = [0] * SKETCH
        self.svc_time = [0] * SKETCH
        self.svc_rate = [0] * SKETCH
        self.svc_return = [0] * SKETCH
        self.rate_events = self.rate_new = 0

    def observe(self, ts, peer, ipv, port):
        """-> (gap_us, peer_gap_us, novelty,
        (rate_events, rate_service, rate_new_peers, rate_returns)),
        and the state moves on."""
        ph = _addr_hash(peer, ipv)
        ptag, stag = _tag(ph), _tag(((ph * GOLDEN) & M64) ^ port)
        pi, oi, si = ptag % SKETCH, (((port * 40503) & M32) >> 12) % SKETCH, stag % SKETCH
        now = (ts >> SVC_SHIFT) & M32
        gap = min((ts - self.last) // 1000, M32) if self.events and ts > self.last else 0
        dt = (ts - self.last) // 1000 if self.events and ts > self.last else 0
        nov = 0
        if self.peer[pi] != ptag:
            nov |= NOVEL_PEER
        if self.port[oi] != (port + 1) & 0xFFFF or port == 0xFFFF:
            nov |= NOVEL_PORT
        if self.svc[si] != stag:
            nov |= NOVEL_SERVICE
            pgap = PEER_GAP_NONE
            self.svc_rate[si] = RATE_ONE
            self.svc_return[si] = 0
        else:
            d = ((now - self.svc_time[si]) & M32) << SVC_SHIFT
            pgap = min(d // 1000, PEER_GAP_NONE - 1)
            self.svc_rate[si] = _add(_decay(self.svc_rate[si], d // 1000, SVC_HALF_US), RATE_ONE)
            back = RATE_ONE if d // 1000 >= RETURN_IDLE_US else 0
            self.svc_return[si] = min(
                _add(_decay(self.svc_return[si], d // 1000, RETURN_HALF_US), back), 0xFFFF)
        self.rate_events = _add(_decay(self.rate_events, dt, HOST_HALF_US), RATE_ONE)
        self.rate_new = _add(_decay(self.rate_new, dt, HOST_HALF_US),
                             RATE_ONE if nov & NOVEL_PEER else 0)
        rates = tuple(min(v, 0xFFFF) for v in (self.rate_events, self.svc_rate[si],
                                               self.rate_new, self.svc_return[si]))
        self.peer[pi], self.port[oi] = ptag, (port + 1) & 0xFFFF
        self.svc[si], self.svc_time[si] = stag, now
        if not self.events or ts > self.last:
            self.last = ts
        self.events = min(self.events + 1, M32)
        return gap, pgap, nov, rates


def host_events(flows, first, domain=0):
    """flows: a dataset's /flows rows; first: each flow's first record (RECORD_DTYPE rows).
    -> (hosts: list of (ip_version, address bytes), events: list per host of dicts with the
    event's fields plus 'flow' (row in flows) and 'role')."""
    order = sorted(range(len(flows)),
                   key=lambda i: (int(flows[i]["first_ts_ns"]), int(flows[i]["flow_id"]), i))
    index, hosts, state, events = {}, [], [], []

    def host(addr, ipv):
        key = (ipv, bytes(addr[:4 if ipv == 4 else 16]), domain)
        if key not in index:
            index[key] = len(hosts)
            hosts.append(key[:2])
            state.append(_Host())
            events.append([])
        return index[key]

    for i in order:
        f, r = flows[i], first[i]
        ipv = int(f["ip_version"])
        if ipv not in (4, 6):
            continue
        src, dst = bytes(f["src_addr"]), bytes(f["dst_addr"])
        a, b = host(src, ipv), host(dst, ipv)
        ts, port = int(f["first_ts_ns"]), int(f["dst_port"])
        for role, h, peer in ((0, a, dst), (1, b, src)):
            gap, pgap, nov, rates = state[h].observe(ts, peer, ipv, port)
            events[h].append(dict(flow=i, role=role, ts_ns=ts, gap_us=gap, peer_gap_us=pgap,
                                  novelty=nov, rates=rates, ip_len=int(r["ip_len"]),
                                  service_port=port, tcp_flags=int(r["tcp_flags"]),
                                  ttl=int(r["ttl"]), ip_proto=int(f["protocol"]),
                                  rec_flags=int(r["flags"])))
    return hosts, events


def lower(host_id, evs):
    """A host's events -> its rows (RECORD_DTYPE): the start row, then one per event."""
    rows = np.zeros(len(evs) + 1, dtype=RECORD_DTYPE)
    rows[0]["ts_ns"], rows[0]["flow_id"] = evs[0]["ts_ns"], host_id
    for k, e in enumerate(evs, 1):
        r = rows[k]
        r["ts_ns"], r["flow_id"], r["gap_us"] = e["ts_ns"], host_id, e["gap_us"]
        r["ip_len"], r["payload_len"] = e["ip_len"], e["service_port"]
        pg = e["peer_gap_us"]
        r["tcp_window"] = 65535 if pg == PEER_GAP_NONE else min(pg // 1000, 65534)
        r["pkt_index"] = min(k, 65535)
        r["tcp_flags"], r["ttl"], r["ip_proto"] = e["tcp_flags"], e["ttl"], e["ip_proto"]
        r["direction"] = e["role"]
        fl = e["rec_flags"] & (REC_IPV6 | REC_TUNNEL)
        fl |= REC_FRAGMENT if e["novelty"] & NOVEL_PORT else 0
        fl |= REC_TRUNCATED if e["novelty"] & NOVEL_PEER else 0
        fl |= REC_OUT_OF_ORDER if e["novelty"] & NOVEL_SERVICE else 0
        r["flags"] = fl
    return rows


def event_surprises(bundle, flows, first):
    """-> (n_flows, 2) float64: each flow's event surprise in its initiator's and its
    responder's sequence, under the host level's bundle."""
    hosts, events = host_events(flows, first)
    rows = np.concatenate([lower(h, evs) for h, evs in enumerate(events)]) if events else \
        np.zeros(0, dtype=RECORD_DTYPE)
    raw = torch.from_numpy(rows.view(np.uint8).reshape(-1, RECORD_DTYPE.itemsize).copy())
    res = sequence_scores(bundle, raw)
    out = np.zeros((len(flows), 2))
    for h, evs in enumerate(events):
        nll = res[h]["nll"].to(torch.float64).sum(1).numpy()
        for k, e in enumerate(evs, 1):
            out[e["flow"], e["role"]] = nll[k]
    return out


def activity_scores(bundle, flows, first):
    """-> (n_flows,) float64: each flow's activity surprise (the larger of its two events'),
    under the host bundle's "activity_profile"; zeros when the bundle has none. A profile
    fitted before a count existed lists fewer counts: the others are not judged."""
    out = np.zeros(len(flows))
    if "activity_profile" not in bundle.meta:
        return out
    prof = json.loads(bundle.meta["activity_profile"])
    mean, sd, margin = prof["mean"], prof["sd"], prof["margin"]
    weight = prof.get("weight", [1.0] * len(mean))  # bundles written before weights: all 1
    _, events = host_events(flows, first)
    for evs in events:
        for e in evs:
            s = 0.0
            for k, c in enumerate(e["rates"][:len(mean)]):
                z = (math.log1p(c / RATE_ONE) - mean[k]) / sd[k] - margin
                s += weight[k] * z * z / 2 if z > 0 else 0.0
            out[e["flow"]] = max(out[e["flow"]], s)
    return out
