"""ssm_torch.py - an independent PyTorch implementation of the ssmflow model.

Written from docs/model.md with torch ops and autograd (no hand-written backward). Used as
the oracle of the C model (test_torch_oracle.py) and as the PyTorch side of bench/model.

Two recurrences: `scan="loop"` (the definition, a sequential loop over packets) and
`scan="chunked"` (the same recurrence as masked matrix products per chunk of packets, the
fastest form we found in PyTorch on the CPU).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

N_FEATURES = 25
N_LOGITS = 42
A_MIN = 1e-4
EPS = 1e-5
GAP_DT_SCALE = 1e-3
SIZE_EDGES = [41, 53, 61, 77, 97, 121, 153, 193, 257, 321, 513, 769, 1025, 1281, 1481]
GAP_EDGES = [1, 10, 32, 100, 317, 1000, 3163, 10000, 31623, 100000, 316228, 1000000,
             3162278, 10000000, 100000000]

RECORD_DTYPE = np.dtype([
    ("ts_ns", "<u8"), ("flow_id", "<u4"), ("gap_us", "<u4"), ("ip_len", "<u2"),
    ("payload_len", "<u2"), ("tcp_window", "<u2"), ("pkt_index", "<u2"), ("tcp_flags", "u1"),
    ("ttl", "u1"), ("ip_proto", "u1"), ("direction", "u1"), ("flags", "u1"),
    ("reserved", "u1", (3,)),
])
assert RECORD_DTYPE.itemsize == 32


class Config:
    def __init__(self, d_model=64, n_layer=2, d_state=16, expand=2, headdim=16):
        self.d_model, self.n_layer, self.d_state = d_model, n_layer, d_state
        self.expand, self.headdim = expand, headdim
        self.d_inner = expand * d_model
        self.nheads = self.d_inner // headdim
        self.nangles = d_state // 2
        self.d_proj = 2 * self.d_inner + 2 * d_state + 3 * self.nheads + self.nangles


def param_shapes(c):
    """(name, shape) in the order of the C parameter buffer."""
    out = [("embed.weight", (c.d_model, N_FEATURES)), ("embed.bias", (c.d_model,))]
    for l in range(c.n_layer):
        p = f"layers.{l}."
        out += [(p + "norm.weight", (c.d_model,)),
                (p + "mixer.in_proj.weight", (c.d_proj, c.d_model)),
                (p + "mixer.dt_bias", (c.nheads,)), (p + "mixer.a_bias", (c.nheads,)),
                (p + "mixer.gap_w", (c.nheads,)),
                (p + "mixer.B_norm.weight", (c.d_state,)), (p + "mixer.B_bias", (c.d_state,)),
                (p + "mixer.C_norm.weight", (c.d_state,)), (p + "mixer.C_bias", (c.d_state,)),
                (p + "mixer.D", (c.nheads,)),
                (p + "mixer.out_proj.weight", (c.d_model, c.d_inner))]
    out += [("norm_f.weight", (c.d_model,)), ("head.weight", (N_LOGITS, c.d_model)),
            ("head.bias", (N_LOGITS,)), ("cls_head.weight", (1, c.d_model)),
            ("cls_head.bias", (1,))]
    return out


def unflatten(c, flat):
    params, off = {}, 0
    for name, shape in param_shapes(c):
        n = int(np.prod(shape))
        params[name] = torch.tensor(flat[off:off + n].reshape(shape), dtype=torch.float32,
                                    requires_grad=True)
        off += n
    assert off == len(flat), (off, len(flat))
    return params


def normalise(rec):
    """rec: structured array (B,T) -> features (B,T,25) float32, gap term (B,T)."""
    f = lambda k: rec[k].astype(np.float64)
    ln16, ln32 = math.log(65536.0), math.log(2.0 ** 32)
    cols = [np.log1p(f("ip_len")) / ln16, np.log1p(f("payload_len")) / ln16,
            np.log1p(f("gap_us")) / ln32, np.log1p(f("tcp_window")) / ln16,
            f("ttl") / 255.0, np.log1p(f("pkt_index")) / ln16, f("direction")]
    cols += [((rec["tcp_flags"] >> i) & 1).astype(np.float64) for i in range(8)]
    proto = rec["ip_proto"]
    cols += [(proto == v).astype(np.float64) for v in (6, 17, 1, 58)]
    cols += [(~np.isin(proto, [6, 17, 1, 58])).astype(np.float64)]
    cols += [((rec["flags"] & m) != 0).astype(np.float64) for m in (1, 2, 4, 8, 16)]
    feat = np.stack(cols, axis=-1).astype(np.float32)
    gdt = np.log1p(f("gap_us") * GAP_DT_SCALE).astype(np.float32)
    return torch.from_numpy(feat), torch.from_numpy(gdt)


def targets(rec):
    size_b = np.searchsorted(np.array(SIZE_EDGES), rec["ip_len"], side="right")
    gap_b = np.searchsorted(np.array(GAP_EDGES), rec["gap_us"], side="right")
    bits = np.stack([(rec["tcp_flags"] >> i) & 1 for i in range(8)], -1).astype(np.float32)
    return (torch.from_numpy(rec["direction"].astype(np.int64)),
            torch.from_numpy(size_b.astype(np.int64)), torch.from_numpy(gap_b.astype(np.int64)),
            torch.from_numpy(bits), torch.from_numpy((rec["ip_proto"] == 6).astype(np.float32)))


def rmsnorm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def rotate(v, phi):
    """v (B,T,N) shared by heads, phi (B,T,H,N/2) -> (B,T,H,N): pairs as complex numbers."""
    vc = torch.view_as_complex(v.reshape(*v.shape[:-1], -1, 2).contiguous())  # (B,T,N/2)
    rc = vc.unsqueeze(2) * torch.polar(torch.ones_like(phi), phi)
    return torch.view_as_real(rc).flatten(-2)


def scan_loop(alpha, beta, gamma, k, q, v, Dh):
    """alpha/beta/gamma (B,T,H), k/q (B,T,H,N), v (B,T,H,P) -> y (B,T,H,P)."""
    Bsz, T, H, N = k.shape
    P = v.shape[-1]
    h = torch.zeros(Bsz, H, N, P, dtype=v.dtype)
    kv_prev = torch.zeros_like(h)
    ys = []
    for t in range(T):
        kv = k[:, t, :, :, None] * v[:, t, :, None, :]
        h = (alpha[:, t, :, None, None] * h + beta[:, t, :, None, None] * kv_prev
             + gamma[:, t, :, None, None] * kv)
        ys.append(torch.einsum("bhnp,bhn->bhp", h, q[:, t]))
        kv_prev = kv
    return torch.stack(ys, 1) + Dh[:, None] * v


def scan_chunked(alpha, beta, gamma, k, q, v, Dh, chunk=32, bdt=None):
    """The same recurrence in chunks: inside a chunk the output is a masked (decay-weighted)
    attention-like product; the state is carried between chunks.

    Unrolled: h_t = sum_{s<=t} decay(s->t) w_{s,t} k_s v_s^T with w_{s,t} = gamma_s for s = t
    and gamma_s + beta_{s+1}/alpha_{s+1} for s < t; decay(s->t) = prod_{s<r<=t} alpha_r.
    bdt = (1 - lambda) DT = beta / alpha, given to avoid the division."""
    Bsz, T, H, N = k.shape
    P = v.shape[-1]
    loga = torch.log(alpha)
    # coefficient carried by k_s v_s^T once time s+1 has happened: gamma_s + beta_{s+1}/alpha_{s+1}
    bnext = torch.zeros_like(beta)
    bnext[:, :-1] = (beta / alpha if bdt is None else bdt)[:, 1:]
    h = torch.zeros(Bsz, H, N, P, dtype=v.dtype)
    ys = []
    for c0 in range(0, T, chunk):
        c1 = min(T, c0 + chunk)
        L = c1 - c0
        la = loga[:, c0:c1].transpose(1, 2)  # (B,H,L)
        cs = torch.cumsum(la, -1)
        kc = k[:, c0:c1].transpose(1, 2)  # (B,H,L,N)
        qc = q[:, c0:c1].transpose(1, 2)
        vc = v[:, c0:c1].transpose(1, 2)  # (B,H,L,P)
        g = gamma[:, c0:c1].transpose(1, 2)
        bn = bnext[:, c0:c1].transpose(1, 2)
        seg = cs[..., :, None] - cs[..., None, :]  # (B,H,L,L): log decay(s->t)
        causal = torch.ones(L, L, dtype=torch.bool).tril()
        strict = torch.ones(L, L, dtype=torch.bool).tril(-1)
        w = g[..., None, :] + torch.where(strict, bn[..., None, :], torch.zeros(()))
        M = torch.where(causal, torch.exp(seg.masked_fill(~causal, 0)) * w, torch.zeros(()))
        scores = (qc @ kc.transpose(-1, -2)) * M
        y = scores @ vc + torch.exp(cs)[..., None] * (qc @ h)  # (B,H,L,P)
        # the previous chunk's last k v^T still owes its beta term at the chunk's first step
        ys.append(y.transpose(1, 2))
        # state after the chunk
        dec_end = torch.exp(cs[..., -1:] - cs)  # decay(s -> end)
        wend = g.clone()
        wend[..., :-1] = wend[..., :-1] + bn[..., :-1]
        h = torch.exp(cs[..., -1])[..., None, None] * h + \
            (kc * (dec_end * wend)[..., None]).transpose(-1, -2) @ vc
        # pending beta term of the chunk's last packet, applied at the next chunk's start
        if c1 < T:
            last = (kc[..., -1, :, None] * vc[..., -1, None, :])
            h = h + bn[..., -1, None, None] * last  # scaled later by exp(cs) of next chunk
    return torch.cat(ys, 1) + Dh[:, None] * v


def forward(c, params, rec, lens, labels=None, sup_weight=0.0, scan="loop", chunk=32):
    """Returns dict with loss, logits (B,T,42), nll (B,T,4), score (B), score_comp (B,4), cls."""
    feat, gdt = normalise(rec)
    Bsz, T = rec.shape
    lens_t = torch.as_tensor(lens)
    H, P, N, NA, DI = c.nheads, c.headdim, c.d_state, c.nangles, c.d_inner
    x = feat @ params["embed.weight"].T + params["embed.bias"]
    for l in range(c.n_layer):
        p = lambda s: params[f"layers.{l}.{s}"]
        xn = rmsnorm(x, p("norm.weight"))
        proj = xn @ p("mixer.in_proj.weight").T
        z, xv, Bm, Cm, dt, a, lam, th = torch.split(
            proj, [DI, DI, N, N, H, H, H, NA], dim=-1)
        DT = F.softplus(dt + p("mixer.dt_bias")) + F.softplus(p("mixer.gap_w")) * gdt[..., None]
        A = -torch.clamp(F.softplus(a + p("mixer.a_bias")), min=A_MIN)
        alpha = torch.exp(A * DT)
        lam = torch.sigmoid(lam)
        beta = (1 - lam) * DT * alpha
        gamma = lam * DT
        Bn = rmsnorm(Bm, p("mixer.B_norm.weight")) + p("mixer.B_bias")
        Cn = rmsnorm(Cm, p("mixer.C_norm.weight")) + p("mixer.C_bias")
        phi = torch.cumsum(DT[..., None] * th[:, :, None, :], dim=1)  # (B,T,H,NA)
        k, q = rotate(Bn, phi), rotate(Cn, phi)
        v = xv.reshape(Bsz, T, H, P)
        if scan == "loop":
            y = scan_loop(alpha, beta, gamma, k, q, v, p("mixer.D"))
        else:
            y = scan_chunked(alpha, beta, gamma, k, q, v, p("mixer.D"), chunk=chunk,
                             bdt=(1 - lam) * DT)
        y = y.reshape(Bsz, T, DI)
        x = x + (y * F.silu(z)) @ p("mixer.out_proj.weight").T
    hidden = rmsnorm(x, params["norm_f.weight"])
    logits = hidden @ params["head.weight"].T + params["head.bias"]
    # next-packet NLL: logits at t-1 against the record at t
    d, sb, gb, bits, is_tcp = targets(rec)
    lp = logits[:, :-1]
    nll_dir = F.cross_entropy(lp[..., 0:2].reshape(-1, 2), d[:, 1:].reshape(-1),
                              reduction="none").view(Bsz, T - 1)
    nll_size = F.cross_entropy(lp[..., 2:18].reshape(-1, 16), sb[:, 1:].reshape(-1),
                               reduction="none").view(Bsz, T - 1)
    nll_gap = F.cross_entropy(lp[..., 18:34].reshape(-1, 16), gb[:, 1:].reshape(-1),
                              reduction="none").view(Bsz, T - 1)
    nll_flags = F.binary_cross_entropy_with_logits(lp[..., 34:42], bits[:, 1:],
                                                   reduction="none").sum(-1) * is_tcp[:, 1:]
    nll = torch.stack([nll_dir, nll_size, nll_gap, nll_flags], -1)  # (B,T-1,4) for packets 1..
    tpos = torch.arange(1, T)
    mask = (tpos[None, :] < lens_t[:, None]).float()  # packet t exists and is predicted
    nll = torch.cat([torch.zeros(Bsz, 1, 4), nll * mask[..., None]], 1)
    n_pred = mask.sum(1)
    score_comp = nll.sum(1) / n_pred.clamp(min=1)[:, None]
    score = score_comp.sum(-1)
    loss_next = nll.sum() / mask.sum().clamp(min=1)
    valid = (torch.arange(T)[None, :] < lens_t[:, None]).float()
    pooled = (hidden * valid[..., None]).sum(1) / lens_t.clamp(min=1)[:, None].float()
    cls = (pooled @ params["cls_head.weight"].T + params["cls_head.bias"])[:, 0]
    loss = loss_next
    if labels is not None and sup_weight:
        lab = torch.as_tensor(labels.astype(np.int64))
        lm = (lab == 0) | (lab == 1)
        if lm.any():
            bce = F.binary_cross_entropy_with_logits(cls[lm], lab[lm].float())
            loss = loss + sup_weight * bce
    return dict(loss=loss, logits=logits, nll=nll, score=score, score_comp=score_comp, cls=cls)
