#!/usr/bin/python3
"""The hand-written per-width kernels (the GEMM tile of ssm/gemm_tile_body.h: 4 x 64 on
AVX-512, 4 x 16 on AVX2, 4 x 8 on SSE; the forward scan 8 channels at a time on AVX2) sum
each element in the same order at every width. A CPU runs only its own width unless told
otherwise, so this runs `ssmflow` with SSMF_CAP_KERNELS at each level the CPU has below its
own and compares with the uncapped run: scoring with per-packet surprises (both levels of
the bundled model) and a few training steps (forward and backward). The SSE tile has no
FMA, so its products round once more than the FMA levels': the numbers are compared within
1e-5 relative (observed: 7e-7 for scores, 4e-6 absolute per packet, on AVX2), and whether
the bytes are the same is printed.

    test_kernel_widths.py SSMFLOW DATA
"""
import json
import os
import subprocess
import sys
import tempfile

NDPI = "traffic/nDPI/tests/cfgs/default/pcap"
LEVELS = ["x86-64", "x86-64-v3", "x86-64-v4"]


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def run(ssmflow, cap, *args, cwd):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600")
    env.pop("SSMF_CAP_KERNELS", None)
    if cap:
        env["SSMF_CAP_KERNELS"] = cap
    p = subprocess.run([ssmflow, *args], capture_output=True, text=True, env=env, cwd=cwd)
    if p.returncode != 0:
        fail(f"SSMF_CAP_KERNELS={cap} ssmflow {' '.join(args)}: exit {p.returncode}: "
             f"{p.stderr.strip()}")
    return p


def outputs(ssmflow, cap, data, td):
    d = os.path.join(td, cap or "native")
    os.makedirs(d)
    caps = [os.path.join(data, NDPI, n) for n in ("1kxun.pcap", "quic-23.pcap")]
    run(ssmflow, cap, "score", "-q", "--threads", "2", "--per-packet", "-o", "s.jsonl", *caps,
        cwd=d)
    run(ssmflow, cap, "extract", "-q", "-o", "ds.h5", caps[0], cwd=d)
    run(ssmflow, cap, "train", "-q", "--threads", "2", "--seed", "3", "--epochs", "1",
        "--max-steps", "4", "--batch-size", "8", "--max-len", "64", "--host-level", "no",
        "--log", "t.log.jsonl", "-o", "t.ssmf", "ds.h5", cwd=d)
    return {name: open(os.path.join(d, name), "rb").read()
            for name in ("s.jsonl", "s.jsonl.hosts.jsonl", "t.log.jsonl")}


def numbers(name, text):
    """The numbers to compare, by key: each flow's and host's scores and per-packet
    surprises, each training log line's losses and gradient norm."""
    out = {}
    for i, line in enumerate(text.decode().splitlines()):
        r = json.loads(line)
        if name == "s.jsonl":
            key = r["flow_id"]
            out[(key, "score")] = r["score"]
            out[(key, "host_score")] = r["host_score"]
            for j, pk in enumerate(r["packets"]):
                out[(key, j)] = pk["surprise"]
        elif name == "s.jsonl.hosts.jsonl":
            out[(r["source"], r["address"])] = r["score"]  # by address: ties may swap ranks
        else:
            for k in ("loss", "grad_norm", "val_loss", "train_loss"):
                if k in r:
                    out[(i, k)] = r[k]
    return out


def compare(name, want, got, cap, level):
    a, b = numbers(name, want), numbers(name, got)
    if a.keys() != b.keys():
        fail(f"{name}: the kernels capped at {cap} give other rows than {level}'s")
    scale = max([abs(v) for v in a.values()] + [1e-3])
    worst = max((abs(a[k] - b[k]) / max(abs(a[k]), scale * 1e-3) for k in a), default=0)
    if worst > 1e-5:
        fail(f"{name}: the kernels capped at {cap} differ from {level}'s by {worst:.2e} "
             "relative")
    return worst


def main(ssmflow, data):
    version = subprocess.run([ssmflow, "--version"], capture_output=True, text=True).stdout
    level = next((x.split(":", 1)[1].strip() for x in version.splitlines()
                  if x.startswith("cpu kernels:")), "")
    if level not in LEVELS:
        print(f"SKIP: no per-width kernels in this build (cpu kernels: {level or '?'})")
        return 77
    p = subprocess.run([ssmflow, "--version"], capture_output=True, text=True,
                       env=dict(os.environ, SSMF_CAP_KERNELS="x86-64-v5"))
    if p.returncode != 1 or "SSMF_CAP_KERNELS" not in p.stderr:
        fail(f"a bad SSMF_CAP_KERNELS should be a usage error: exit {p.returncode}")
    with tempfile.TemporaryDirectory() as td:
        want = outputs(ssmflow, None, data, td)
        for cap in LEVELS[:LEVELS.index(level)]:
            got = outputs(ssmflow, cap, data, td)
            for name in want:
                worst = compare(name, want[name], got[name], cap, level)
                print(f"{cap} kernels vs {level}: {name} "
                      + ("the same bytes" if want[name] == got[name]
                         else f"within {worst:.1e} relative"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
