"""bench_torch.py - the same model in PyTorch on the CPU (tests/ssm/ssm_torch.py, chunked scan),
forward (score) and forward+backward (train) packets/s. Prints lines like bench_model.c:
  torch <mode> threads=<n> pkts_per_s=<x>
Usage: /usr/bin/python3 bench_torch.py THREADS B T SECONDS [CHUNK]"""
import ctypes
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "ssm"))
import ssm_torch as S  # noqa: E402


def blas_info():
    libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l})
    core = "?"
    for lib in libs:
        try:
            f = ctypes.CDLL(lib).openblas_get_corename
            f.restype = ctypes.c_char_p
            core = f().decode()
            break
        except (OSError, AttributeError):
            pass
    return ",".join(os.path.basename(l) for l in libs), core


def main():
    threads, B, T = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    secs = float(sys.argv[4])
    chunk = int(sys.argv[5]) if len(sys.argv) > 5 else 32
    torch.set_num_threads(threads)
    cfg = S.Config()
    rng = np.random.default_rng(1)
    flat = []
    for name, shape in S.param_shapes(cfg):
        n = int(np.prod(shape))
        if len(shape) == 2:
            flat.append(rng.uniform(-1, 1, n) / np.sqrt(shape[1]))
        elif "bias" in name and "dt" in name:
            flat.append(np.full(n, -4.0))
        else:
            flat.append(np.ones(n))
    params = S.unflatten(cfg, np.concatenate(flat).astype(np.float32))
    rec = np.zeros((B, T), S.RECORD_DTYPE)
    rec["ip_len"] = rng.integers(40, 1500, (B, T))
    rec["gap_us"] = rng.integers(0, 100000, (B, T))
    rec["gap_us"][:, 0] = 0
    rec["ip_proto"] = 6
    rec["tcp_flags"] = 0x10
    rec["direction"] = rng.integers(0, 2, (B, T))
    rec["pkt_index"] = np.arange(T)[None, :]
    lens = np.full(B, T, np.int32)
    libs, core = blas_info()
    for mode in ("score", "train"):
        it, t0 = 0, time.perf_counter()
        while True:
            if mode == "score":
                with torch.no_grad():
                    S.forward(cfg, params, rec, lens, scan="chunked", chunk=chunk)
            else:
                for p in params.values():
                    p.grad = None
                out = S.forward(cfg, params, rec, lens, scan="chunked", chunk=chunk)
                out["loss"].backward()
            it += 1
            dt = time.perf_counter() - t0
            if dt >= secs and it >= 3:
                break
        print(f"torch {mode} threads={threads} pkts_per_s={it * B * T / dt:.0f}")
    print(f"torch_blas libs={libs} core={core} torch={torch.__version__} chunk={chunk}")


if __name__ == "__main__":
    main()
