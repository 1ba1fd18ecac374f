#!/bin/sh
# run_bench.sh - training packets/s: `ssmflow train` beside the same model trained in
# PyTorch on the CPU (same datasets, batch size, length bucketing, AdamW, clipping; torch's
# matmuls through OpenBLAS; the recurrence as chunked matrix products, its fastest form in
# bench/model), for 1 thread and all cores. One table, ratio last.
#
#   bench/train/run_bench.sh BUILD_DIR [SECONDS] [DATASET...]
#
# Default input: five nDPI captures (the train tests' set), extracted by BUILD_DIR/ssmflow.
# Packets/s counts real packets (not padding) over the training steps only (after loading).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run_bench.sh BUILD_DIR [SECONDS] [DATASET...]}" && pwd)
secs=${2:-20}
[ $# -ge 2 ] && shift 2 || shift $#
ssmflow=$build/ssmflow
export HDF5_PLUGIN_PATH=$build/plugins
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$here/default_datasets.sh"
B=32
L=256
ncpu=$(nproc)
for th in 1 "$ncpu"; do
	# ours: enough epochs to outlast $secs; the rate is taken from the JSON log
	OMP_NUM_THREADS=$th "$ssmflow" train -q --threads "$th" --batch-size $B --max-len $L \
		--epochs 1000 --patience 0 --val-fraction 0 --checkpoint-every 0 \
		--log-json "$tmp/ours$th.jsonl" -o "$tmp/m.ssmf" "$@" 2>/dev/null &
	pid=$!
	sleep "$secs"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	tail -n 1 "$tmp/ours$th.jsonl" | /usr/bin/python3 -c "
import json,sys
o=[json.loads(l) for l in open('$tmp/ours$th.jsonl') if '\"step\"' in l][-1]
print(f'ours train threads=$th pkts_per_s={o[\"packets_per_s\"]} steps={o[\"step\"]}')" >>"$tmp/rows"
	for ob in "$th" 1; do
		OMP_NUM_THREADS=$th OPENBLAS_NUM_THREADS=$ob /usr/bin/python3 \
			"$here/bench_train_torch.py" "$th" "$secs" $B $L "$@" >>"$tmp/rows"
		[ "$th" = 1 ] && break
	done
done
/usr/bin/python3 - "$tmp/rows" <<'PY'
import re, sys
rows, blas = {}, ""
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    w = line.split()
    if w[0] in ("ours", "torch") and len(w) > 1 and w[1] == "train":
        r = rows.setdefault(int(kv["threads"]), {})
        if w[0] not in r or float(kv["pkts_per_s"]) > float(r[w[0]]):
            r[w[0]] = float(kv["pkts_per_s"])
    elif w[0] == "torch_blas":
        blas = line.strip()
print("training, default config (62,187 parameters), batch 32 flows, max-len 256, "
      "real packets/s (padding not counted), AdamW + clipping included")
print(blas)
print(f"{'thr':>3} {'PyTorch pkt/s':>14} {'ours pkt/s':>11} {'ratio':>6}")
for th, r in sorted(rows.items()):
    t, o = r.get("torch", float("nan")), r.get("ours", float("nan"))
    print(f"{th:3d} {t:14.0f} {o:11.0f} {o / t:5.2f}x")
PY
