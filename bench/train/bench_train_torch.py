"""bench_train_torch.py - the same training in PyTorch on the CPU: the model of
tests/ssm/ssm_torch.py (chunked scan), the same datasets read with h5py, batches of the same
size built the same way (whole flows cut at max_len, length-bucketed, padded and masked),
AdamW with the same hyper-parameters. Prints
  torch train threads=<n> pkts_per_s=<real packets per second> steps=<k>
Usage: /usr/bin/python3 bench_train_torch.py THREADS SECONDS BATCH MAX_LEN DATASET...
(HDF5_PLUGIN_PATH must point at the build's plugins folder.)"""
import os
import sys
import time

import h5py
import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tests", "ssm"))
sys.path.insert(0, os.path.join(here, "..", "model"))
import ssm_torch as S  # noqa: E402
from bench_torch import blas_info  # noqa: E402


def load_flows(paths, max_len):
    flows = []
    for p in paths:
        with h5py.File(p, "r") as f:
            fl, pk = f["flows"][:], f["packets"][:]
        for row in fl:
            n = min(int(row["packet_count"]), max_len)
            if n >= 2:
                off = int(row["packet_offset"])
                r = np.zeros(n, S.RECORD_DTYPE)
                for name in S.RECORD_DTYPE.names:
                    r[name] = pk[name][off:off + n]
                flows.append(r)
    return flows


def batches(flows, B, rng):
    """Shuffle, sort pools of 64 batches by length, shuffle the batches: as train/batcher.c."""
    order = rng.permutation(len(flows))
    pool = 64 * B
    for s in range(0, len(order), pool):
        order[s:s + pool] = sorted(order[s:s + pool], key=lambda i: -len(flows[i]))
    out = [order[s:s + B] for s in range(0, len(order), B)]
    rng.shuffle(out)
    for idx in out:
        T = max(len(flows[i]) for i in idx)
        rec = np.zeros((len(idx), T), S.RECORD_DTYPE)
        lens = np.zeros(len(idx), np.int32)
        for k, i in enumerate(idx):
            rec[k, :len(flows[i])] = flows[i]
            lens[k] = len(flows[i])
        yield rec, lens


def main():
    threads, secs, B, max_len = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), \
        int(sys.argv[4])
    torch.set_num_threads(threads)
    flows = load_flows(sys.argv[5:], max_len)
    cfg = S.Config()
    rng = np.random.default_rng(1)
    flat = []
    for name, shape in S.param_shapes(cfg):
        n = int(np.prod(shape))
        flat.append(rng.uniform(-1, 1, n) / np.sqrt(shape[1]) if len(shape) == 2
                    else np.ones(n))
    params = S.unflatten(cfg, np.concatenate(flat).astype(np.float32))
    decay = [p for n, p in params.items() if p.dim() == 2]
    rest = [p for n, p in params.items() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    packets, steps, t0 = 0, 0, time.perf_counter()
    while time.perf_counter() - t0 < secs:
        for rec, lens in batches(flows, B, rng):
            opt.zero_grad(set_to_none=True)
            out = S.forward(cfg, params, rec, lens, scan="chunked", chunk=32)
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
            opt.step()
            packets += int(lens.sum())
            steps += 1
            if time.perf_counter() - t0 >= secs:
                break
    dt = time.perf_counter() - t0
    libs, core = blas_info()
    print(f"torch train threads={threads} pkts_per_s={packets / dt:.0f} steps={steps}")
    print(f"torch_blas libs={libs} core={core} torch={torch.__version__} chunk=32")


if __name__ == "__main__":
    main()
