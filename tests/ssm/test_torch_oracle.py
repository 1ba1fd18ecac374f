"""test_torch_oracle.py - the C model against the independent PyTorch model.

Usage: /usr/bin/python3 test_torch_oracle.py DUMP.bin (written by ssm_dump_oracle).
Compares outputs, loss and every parameter gradient in fp32; prints the max error per
tensor; exits 1 on any mismatch. Also checks the chunked PyTorch scan (the benchmark's)
against the sequential one.
"""
import sys

import numpy as np
import torch

import ssm_torch as S

TOL = 1e-4  # max |c - torch| / max |torch| per tensor, fp32


def main(path):
    buf = open(path, "rb").read()
    assert buf[:8] == b"SSMFORCL", "bad magic"
    off = 8
    hdr = np.frombuffer(buf, "<i4", 8, off); off += 32
    ver, dm, nl, ds, ex, hd, B, T = (int(v) for v in hdr)
    assert ver == 1
    n_params = int(np.frombuffer(buf, "<i8", 1, off)[0]); off += 8
    sup_weight = float(np.frombuffer(buf, "<f8", 1, off)[0]); off += 8
    rec = np.frombuffer(buf, S.RECORD_DTYPE, B * T, off).reshape(B, T); off += 32 * B * T
    lens = np.frombuffer(buf, "<i4", B, off).copy(); off += 4 * B
    labels = np.frombuffer(buf, "i1", B, off).copy(); off += B

    def f32(n):
        nonlocal off
        a = np.frombuffer(buf, "<f4", n, off).copy()
        off += 4 * n
        return a

    flat = f32(n_params)
    c_logits = f32(B * T * S.N_LOGITS).reshape(B, T, S.N_LOGITS)
    c_nll = f32(B * T * 4).reshape(B, T, 4)
    c_score = f32(B)
    c_comp = f32(B * 4).reshape(B, 4)
    c_cls = f32(B)
    c_loss = float(np.frombuffer(buf, "<f8", 1, off)[0]); off += 8
    c_grads = f32(n_params)
    assert off == len(buf), (off, len(buf))

    cfg = S.Config(dm, nl, ds, ex, hd)
    torch.manual_seed(0)
    params = S.unflatten(cfg, flat)
    out = S.forward(cfg, params, rec, lens, labels, sup_weight, scan="loop")
    out["loss"].backward()

    fails = 0

    def check(name, c, t, tol=TOL):
        nonlocal fails
        t = np.asarray(t, dtype=np.float64)
        c = np.asarray(c, dtype=np.float64)
        err = np.max(np.abs(c - t)) if c.size else 0.0
        ref = max(np.max(np.abs(t)) if t.size else 0.0, 1e-6)
        bad = not (err / ref <= tol)
        fails += bad
        print(f"{name:40s} max|err| {err:.3e}  max|ref| {ref:.3e}  rel {err / ref:.2e}"
              f"  {'FAIL' if bad else 'ok'}")

    valid = np.arange(T)[None, :] < lens[:, None]
    check("logits (real packets)", c_logits[valid], out["logits"].detach().numpy()[valid])
    check("nll per packet", c_nll, out["nll"].detach().numpy())
    check("flow score", c_score, out["score"].detach().numpy())
    check("flow score per component", c_comp, out["score_comp"].detach().numpy())
    check("supervised flow logit", c_cls, out["cls"].detach().numpy())
    check("loss", [c_loss], [out["loss"].item()])
    off = 0
    for name, shape in S.param_shapes(cfg):
        n = int(np.prod(shape))
        check("grad " + name, c_grads[off:off + n], params[name].grad.numpy().reshape(-1))
        off += n

    # the benchmark's chunked scan must be the same model
    with torch.no_grad():
        for chunk in (1, 7, 16):
            o2 = S.forward(cfg, params, rec, lens, labels, sup_weight, scan="chunked",
                           chunk=chunk)
            check(f"chunked scan ({chunk}): nll", o2["nll"].numpy(),
                  out["nll"].detach().numpy())
    print(f"{fails} tensors failed" if fails else "torch oracle: all match")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
