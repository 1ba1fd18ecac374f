#!/bin/sh
# run_bench.sh - ours beside PyTorch (CPU, OpenBLAS, chunked scan, same threads) and the FLOP
# floor, one table. Usage: bench/model/run_bench.sh BUILD_DIR [B] [T] [SECONDS]
# BUILD_DIR holds bench/model/ssm_bench_model (or pass its folder directly).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run_bench.sh BUILD_DIR [B] [T] [SECONDS]}
B=${2:-64}
T=${3:-128}
S=${4:-3}
exe=$build/bench/model/ssm_bench_model
[ -x "$exe" ] || exe=$build/ssm_bench_model
[ -x "$exe" ] || { echo "no ssm_bench_model under $build" >&2; exit 1; }
ncpu=$(nproc)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for th in 1 "$ncpu"; do
	OMP_NUM_THREADS=$th "$exe" "$th" "$B" "$T" "$S" >>"$tmp"
	# PyTorch's best of: OpenBLAS threaded like torch, or OpenBLAS single-threaded under
	# torch's own intra-op threads (the two pools can fight over the cores)
	for ob in "$th" 1; do
		OMP_NUM_THREADS=$th OPENBLAS_NUM_THREADS=$ob /usr/bin/python3 "$here/bench_torch.py" \
			"$th" "$B" "$T" "$S" >>"$tmp"
		[ "$th" = 1 ] && break
	done
done
/usr/bin/python3 - "$tmp" "$B" "$T" <<'PY'
import re, sys
rows, peak, isa, blas = {}, None, "", ""
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    w = line.split()
    if w[0] in ("ours", "torch") and len(w) > 1 and w[1] in ("score", "train"):
        r = rows.setdefault((w[1], int(kv["threads"])), {})
        if w[0] not in r or float(kv["pkts_per_s"]) > float(r[w[0]]["pkts_per_s"]):
            r[w[0]] = kv
    elif w[0] == "peak":  # the highest of the runs: the conservative denominator
        if peak is None or float(kv["per_core_gflops"]) > peak:
            peak = float(kv["per_core_gflops"]); isa = kv["isa"]
    elif w[0] == "torch_blas":
        blas = line.strip()
print(f"default config (d_model 64, 2 layers, d_state 16, expand 2, headdim 16), "
      f"B={sys.argv[2]} flows x T={sys.argv[3]} packets, fp32")
print(f"measured peak: {peak:.1f} GFLOP/s per core ({isa}); {blas}")
print(f"{'mode':6} {'thr':>3} {'GFLOP/s':>8} {'% peak':>7} {'best batch':>10} {'PyTorch pkt/s':>14} {'ours pkt/s':>11} {'ratio':>6}")
for (mode, th), r in sorted(rows.items(), key=lambda x: (x[0][0], x[0][1])):
    o, t = r["ours"], r.get("torch", {})
    ops, tps = float(o["pkts_per_s"]), float(t.get("pkts_per_s", "nan"))
    gf, bg = float(o["gflops"]), float(o["best_gflops"])
    print(f"{mode:6} {th:3d} {gf:8.2f} {100 * gf / (peak * th):6.1f}% {100 * bg / (peak * th):9.1f}% "
          f"{tps:14.0f} {ops:11.0f} {ops / tps:5.2f}x")
PY
