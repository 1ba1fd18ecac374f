"""The ssmflow model in PyTorch, from docs/model.md; every size and constant from the bundle.

sequence_scores: whole flows, padded batches, the recurrence as a loop over packets.
step_scores: records in arrival order, one packet of many flows per step, state per flow
(what the live pipeline runs). Both return per-flow scores and per-packet surprises.
"""
import json
import math

import torch
import torch.nn.functional as F

from .records import fields

COMPONENTS = ("direction", "size", "gap", "flags")


def normalise(b, f):
    """Record fields (dict of int64 (n)) -> features (n, F) float32, gap term (n) float32.
    Transforms in float64, rounded to float32 once (docs/model.md)."""
    cols = []
    for e in b.norm:
        v = f[e["field"]]
        kind = e["kind"]
        if kind == "log1p":
            x = torch.log1p(v.to(torch.float64)) * e["scale"]
        elif kind == "linear":
            x = v.to(torch.float64) * e["scale"]
        elif kind == "bit":
            x = ((v & int(e["arg"])) != 0).to(torch.float64)
        elif kind == "equal":
            x = (v == int(e["arg"])).to(torch.float64)
        elif kind == "proto_other":
            x = torch.ones_like(v, dtype=torch.float64)
            for p in e["not_in"]:
                x = x * (v != int(p)).to(torch.float64)
        else:
            raise ValueError(f"unknown normalisation kind {kind}")
        cols.append(x)
    feat = torch.stack(cols, -1).to(torch.float32)
    gdt = torch.log1p(f["gap_us"].to(torch.float64) * b.consts["gap_dt_scale"])
    return feat, gdt.to(torch.float32)


def targets(b, f):
    """Next-packet targets of each record: direction, size bucket, gap bucket, flag bits, TCP."""
    size_e = torch.tensor(b.consts["size_edges"], dtype=torch.int64)
    gap_e = torch.tensor(b.consts["gap_edges"], dtype=torch.int64)
    bits = torch.stack([(f["tcp_flags"] >> i) & 1 for i in range(8)], -1).to(torch.float32)
    return dict(direction=f["direction"],
                size=torch.bucketize(f["ip_len"], size_e, right=True),
                gap=torch.bucketize(f["gap_us"], gap_e, right=True),
                bits=bits, tcp=(f["ip_proto"] == 6).to(torch.float32))


def packet_nll(b, logits, tg):
    """logits (n, 42) predicting records with targets tg (each (n,...)) -> nll (n, 4)."""
    lg = b.config["logits"]
    sl = lambda k: logits[:, lg[k][0]:lg[k][0] + lg[k][1]]
    d = F.cross_entropy(sl("direction"), tg["direction"], reduction="none")
    s = F.cross_entropy(sl("size"), tg["size"], reduction="none")
    g = F.cross_entropy(sl("gap"), tg["gap"], reduction="none")
    fl = F.binary_cross_entropy_with_logits(sl("tcp_flags"), tg["bits"],
                                            reduction="none").sum(-1) * tg["tcp"]
    return torch.stack([d, s, g, fl], -1)


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate(v, phi):
    """v (..., N) shared by the heads, phi (..., H, N/2) -> (..., H, N): pairs (2j, 2j+1)
    rotated by phi_j."""
    v0, v1 = v[..., 0::2].unsqueeze(-2), v[..., 1::2].unsqueeze(-2)
    c, s = torch.cos(phi), torch.sin(phi)
    return torch.stack([c * v0 - s * v1, s * v0 + c * v1], -1).flatten(-2)


class Layer:
    """One block's parameters and the parts of its step that do not involve the state."""

    def __init__(self, b, l):
        p = lambda s: b.params[f"layers.{l}.{s}"]
        c = b.config
        self.c, self.eps, self.a_min = c, c["norm_eps"], c["a_min"]
        self.norm_w, self.in_proj, self.out_proj = p("norm.weight"), p(
            "mixer.in_proj.weight"), p("mixer.out_proj.weight")
        self.dt_bias, self.a_bias, self.gap_w = p("mixer.dt_bias"), p("mixer.a_bias"), p(
            "mixer.gap_w")
        self.bn_w, self.bn_b = p("mixer.B_norm.weight"), p("mixer.B_bias")
        self.cn_w, self.cn_b = p("mixer.C_norm.weight"), p("mixer.C_bias")
        self.D = p("mixer.D")
        self.split = c["in_proj_split"]

    def prep(self, x, gdt):
        """x (..., D), gdt (...) -> the per-packet quantities of the recurrence."""
        proj = rmsnorm(x, self.norm_w, self.eps) @ self.in_proj.T
        part = lambda k: proj[..., self.split[k][0]:self.split[k][0] + self.split[k][1]]
        DT = F.softplus(part("dt") + self.dt_bias) + F.softplus(self.gap_w) * gdt[..., None]
        A = -torch.clamp(F.softplus(part("a") + self.a_bias), min=self.a_min)
        alpha = torch.exp(A * DT)
        lam = torch.sigmoid(part("lambda"))
        return dict(z=part("z"), v=part("x").unflatten(-1, (self.c["nheads"], self.c["headdim"])),
                    Bn=rmsnorm(part("B"), self.bn_w, self.eps) + self.bn_b,
                    Cn=rmsnorm(part("C"), self.cn_w, self.eps) + self.cn_b,
                    dphi=DT[..., None] * part("theta").unsqueeze(-2),
                    alpha=alpha, beta=(1 - lam) * DT * alpha, gamma=lam * DT)

    def finish(self, x, y, z):
        return x + (y.flatten(-2) * F.silu(z)) @ self.out_proj.T


def _heads(b, x):
    c = b.config
    hidden = rmsnorm(x, b.params["norm_f.weight"], c["norm_eps"])
    return hidden @ b.params["head.weight"].T + b.params["head.bias"]


def _embed(b, feat):
    return feat @ b.params["embed.weight"].T + b.params["embed.bias"]


@torch.no_grad()
def sequence_forward(b, f, lens):
    """f: fields of (B, T) records, lens (B) -> logits (B, T, 42)."""
    feat, gdt = normalise(b, {k: v.flatten() for k, v in f.items()})
    Bsz, T = lens.shape[0], f["flow_id"].shape[1]
    feat, gdt = feat.view(Bsz, T, -1), gdt.view(Bsz, T)
    x = _embed(b, feat)
    for l in range(b.config["n_layer"]):
        L = Layer(b, l)
        p = L.prep(x, gdt)
        phi = torch.cumsum(p["dphi"], dim=1)  # (B, T, H, NA), summed in packet order
        k, q, v = rotate(p["Bn"], phi), rotate(p["Cn"], phi), p["v"]
        S = torch.zeros(Bsz, k.shape[2], k.shape[3], v.shape[3])
        kv_prev = torch.zeros_like(S)
        ys = []
        for t in range(T):
            kv = k[:, t, :, :, None] * v[:, t, :, None, :]
            S = (p["alpha"][:, t, :, None, None] * S + p["beta"][:, t, :, None, None] * kv_prev
                 + p["gamma"][:, t, :, None, None] * kv)
            ys.append((S * q[:, t, :, :, None]).sum(2))
            kv_prev = kv
        y = torch.stack(ys, 1) + L.D[:, None] * v
        x = L.finish(x, y, p["z"])
    return _heads(b, x)


def _flow_groups(f):
    """Row indices of each flow in arrival order: {flow_id: LongTensor}."""
    ids = f["flow_id"]
    order = torch.argsort(ids, stable=True)
    uniq, counts = torch.unique_consecutive(ids[order], return_counts=True)
    return dict(zip(uniq.tolist(), torch.split(order, counts.tolist())))


def _result(nll):
    """nll (n, 4) of a flow's packets (row 0 = zeros) -> the flow's result."""
    n_pred = max(nll.shape[0] - 1, 1)
    comp = nll.to(torch.float64).sum(0) / n_pred
    return dict(score=float(comp.sum()), components=dict(zip(COMPONENTS, comp.tolist())),
                packets_scored=nll.shape[0], nll=nll)


@torch.no_grad()
def sequence_scores(b, raw, batch_flows=32):
    """raw (n, 32) uint8 records in arrival order -> {flow_id: result}."""
    f = fields(raw)
    groups = sorted(_flow_groups(f).items(), key=lambda kv: len(kv[1]))
    tg = targets(b, f)
    out = {}
    for i in range(0, len(groups), batch_flows):
        chunk = groups[i:i + batch_flows]
        lens = torch.tensor([len(g) for _, g in chunk])
        T = int(lens.max())
        idx = torch.stack([torch.cat([g, g[-1:].expand(T - len(g))]) for _, g in chunk])
        logits = sequence_forward(b, {k: v[idx] for k, v in f.items()}, lens)
        for j, (fid, g) in enumerate(chunk):
            n = len(g)
            nll = torch.zeros(n, 4)
            if n > 1:
                nll[1:] = packet_nll(b, logits[j, :n - 1], {k: v[g[1:]] for k, v in tg.items()})
            out[fid] = _result(nll)
    return out


class StepState:
    """State of every flow seen, in slots: per layer phase, k v^T of the previous packet and
    S; the pending prediction. A slot is made on a flow's first packet."""

    def __init__(self, b, capacity=256):
        c = b.config
        self.shapes = dict(phi=(c["nheads"], c["nangles"]),
                           kv=(c["nheads"], c["d_state"], c["headdim"]),
                           S=(c["nheads"], c["d_state"], c["headdim"]))
        self.L = c["n_layer"]
        self.n_logits = c["n_logits"]
        self.slot = {}
        self.cap, self.t = 0, {}
        self._grow(capacity)

    def _grow(self, cap):
        t = {f"{k}{l}": torch.zeros((cap,) + s) for l in range(self.L)
             for k, s in self.shapes.items()}
        t["logits"] = torch.zeros(cap, self.n_logits)
        for k, v in self.t.items():
            t[k][:self.cap] = v
        self.cap, self.t = cap, t

    def slots(self, flow_ids):
        """Slot of each flow, new slots for new flows; also which were new."""
        new = []
        for fid in flow_ids:
            if fid not in self.slot:
                self.slot[fid] = len(self.slot)
                new.append(True)
            else:
                new.append(False)
        if len(self.slot) > self.cap:
            self._grow(max(2 * self.cap, len(self.slot)))
        return torch.tensor([self.slot[f] for f in flow_ids]), torch.tensor(new)


@torch.no_grad()
def step(b, st, rec):
    """One packet for each of n distinct flows (raw (n, 32) records) -> nll (n, 4): the
    surprise of each packet under its flow's pending prediction (zeros for a first packet)."""
    f = fields(rec)
    idx, new = st.slots(f["flow_id"].tolist())
    feat, gdt = normalise(b, f)
    x = _embed(b, feat)
    for l in range(b.config["n_layer"]):
        L = Layer(b, l)
        p = L.prep(x, gdt)
        phi = st.t[f"phi{l}"][idx] + p["dphi"]
        k, q, v = rotate(p["Bn"], phi), rotate(p["Cn"], phi), p["v"]
        kv = k[..., :, None] * v[..., None, :]
        S = (p["alpha"][..., None, None] * st.t[f"S{l}"][idx]
             + p["beta"][..., None, None] * st.t[f"kv{l}"][idx] + p["gamma"][..., None, None] * kv)
        y = (S * q[..., :, None]).sum(-2) + L.D[:, None] * v
        st.t[f"phi{l}"][idx], st.t[f"kv{l}"][idx], st.t[f"S{l}"][idx] = phi, kv, S
        x = L.finish(x, y, p["z"])
    logits = _heads(b, x)
    nll = packet_nll(b, st.t["logits"][idx], targets(b, f))
    nll[new] = 0
    st.t["logits"][idx] = logits
    return nll


def waves(flow_ids, max_flows=64):
    """Split arrival order into runs in which each flow appears at most once."""
    start, seen = 0, set()
    for i, fid in enumerate(flow_ids):
        if fid in seen or i - start == max_flows:
            yield start, i
            start, seen = i, set()
        seen.add(fid)
    if start < len(flow_ids):
        yield start, len(flow_ids)


@torch.no_grad()
def step_scores(b, chunks, max_flows=64):
    """chunks: iterable of (n, 32) uint8 record tensors in arrival order (a whole stream
    or pieces of a pipe) -> {flow_id: result}, scored packet by packet."""
    st = StepState(b)
    per_flow = {}
    for raw in chunks:
        ids = fields(raw)["flow_id"].tolist()
        for s, e in waves(ids, max_flows):
            nll = step(b, st, raw[s:e])
            for fid, row in zip(ids[s:e], nll):
                per_flow.setdefault(fid, []).append(row)
    return {fid: _result(torch.stack(rows)) for fid, rows in per_flow.items()}


def evidence_score(b, score, predicted):
    """A flow's packets' evidence as a whole (ssmflow-formats(5), the packet bundle's
    "evidence"): z = (score - mean) * sqrt(predicted) / sd - margin, z^2 / 2 when positive;
    0 without the metadata (bundles of models trained before it) or a predicted packet."""
    if "evidence" not in b.meta or predicted <= 0:
        return 0.0
    ev = json.loads(b.meta["evidence"])
    z = (float(score) - ev["mean"]) * math.sqrt(predicted) / ev["sd"] - ev["margin"]
    return z * z / 2 if z > 0 else 0.0
