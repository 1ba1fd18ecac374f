"""`ssmflow score` on captures: sequence mode (the default), chunked sequence mode and step
mode give the same flows, in the same order, with the same scores (1e-5), per flow and per
packet, on real captures; on the CPU and through the CUDA kernels' code emulated on the host.

Step mode is the reference: it feeds the model one packet at a time, the way the live
pipeline does, so it shares no batching, chunking or state-carrying code with sequence mode.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from common import fail, tmpdir  # noqa: E402

NDPI = "traffic/nDPI/tests/cfgs/default/pcap"
COMPONENTS = ("surprise", "direction", "size", "gap", "flags")


def score(ssmflow, out, inputs, *args):
    p = subprocess.run([ssmflow, "score", "-q", "--per-packet", "-o", out, *args, *inputs],
                       capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"score {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return [json.loads(x) for x in open(out)]


def close(a, b, tol=1e-5):
    return abs(a - b) <= tol * max(abs(a), abs(b), 1.0)


def compare(ref, got, what):
    """Flow lists in output order: identical flows and order, equal scores per flow and
    per packet. Returns the largest packet difference seen."""
    if [r["flow_id"] for r in ref] != [g["flow_id"] for g in got]:
        fail(f"{what}: different flows or order")
    worst = 0.0
    for r, g in zip(ref, got):
        fid = r["flow_id"]
        if r["packets_scored"] != g["packets_scored"] or len(g["packets"]) != len(r["packets"]):
            fail(f"{what}: flow {fid}: {g['packets_scored']} packets scored, "
                 f"step mode {r['packets_scored']}")
        if not close(r["score"], g["score"]) or not close(r["max_surprise"], g["max_surprise"]) \
                or not close(r["host_score"], g["host_score"]):
            fail(f"{what}: flow {fid}: score {g['score']}, step mode {r['score']}")
        if r["max_surprise_index"] != g["max_surprise_index"]:
            fail(f"{what}: flow {fid}: most surprising packet {g['max_surprise_index']}, "
                 f"step mode {r['max_surprise_index']}")
        for k, (pr, pg) in enumerate(zip(r["packets"], g["packets"])):
            if pr["ts_ns"] != pg["ts_ns"]:
                fail(f"{what}: flow {fid} packet {k}: timestamps differ")
            for c in COMPONENTS:
                if not close(pr[c], pg[c]):
                    fail(f"{what}: flow {fid} packet {k}: {c} {pg[c]}, step mode {pr[c]}")
                worst = max(worst, abs(pr[c] - pg[c]))
    return worst


def main(ssmflow, data):
    # 197 + 2 + 1 flows of 1 to 142 packets: chunks of 16 split 31 of them, one in 9 pieces
    sample = [os.path.join(data, NDPI, n) for n in ("1kxun.pcap", "dns_doh.pcap", "quic-23.pcap")]
    small = sample[1:]
    with tmpdir() as td:
        out = os.path.join(td, "s.jsonl")
        step = score(ssmflow, out, sample, "--mode", "step")
        if max(r["packets_scored"] for r in step) <= 16:
            fail("the sample has no flow longer than a chunk of 16")
        for args in ((), ("--mode", "sequence", "--chunk", "16"), ("--chunk", "1"),
                     ("--chunk", "4096")):
            d = compare(step, score(ssmflow, out, sample, *args), f"sequence {' '.join(args)}")
            print(f"step = sequence {' '.join(args) or '(default)'} on {len(step)} flows "
                  f"(largest per-packet difference {d:.1e})")
        # the GPU path: whole flows in its sequence path, chunks on the CPU; step mode with
        # every flow's state on the (emulated) device
        emu = ("--device", "cuda-emulated")
        d = compare(step, score(ssmflow, out, sample, *emu, "--chunk", "16"),
                    "cuda-emulated sequence --chunk 16")
        print(f"step = cuda-emulated sequence --chunk 16 (largest difference {d:.1e})")
        step_small = score(ssmflow, out, small, "--mode", "step")
        d = compare(step_small,
                    score(ssmflow, out, small, *emu, "--mode", "step", "--gpu-flows", "512"),
                    "cuda-emulated step")
        print(f"step = cuda-emulated step on {len(step_small)} flows (largest difference "
              f"{d:.1e})")
    print("score mode checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
