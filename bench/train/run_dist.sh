#!/bin/sh
# run_dist.sh - data-parallel training: `mpirun -np 1` beside `mpirun -np 2` of the same
# `ssmflow train` (same datasets, the default model, the same global batch and steps, so
# both runs compute the same losses and weights bit for bit), one thread per process. Prints
# packets/s of each, the mean step time, the share of rank 0's step spent reducing
# gradients and losses (waiting for the chain included), the gradient bytes per step, and
# the ratio np 2 / np 1 last.
#
#   bench/train/run_dist.sh BUILD_DIR [STEPS] [DATASET...]
#
# Default input: the five nDPI captures of run_bench.sh. Needs a build with MPI.
set -eu
build=$(cd "${1:?usage: run_dist.sh BUILD_DIR [STEPS] [DATASET...]}" && pwd)
steps=${2:-60}
[ $# -ge 2 ] && shift 2 || shift $#
here=$(cd "$(dirname "$0")" && pwd)
ssmflow=$build/ssmflow
export HDF5_PLUGIN_PATH=$build/plugins OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$here/default_datasets.sh"
for np in 1 2; do
	OMP_NUM_THREADS=1 mpirun --oversubscribe --bind-to none -np $np "$ssmflow" train -q \
		--threads 1 --batch-size 32 --max-len 256 --max-steps "$steps" --epochs 1000 \
		--patience 0 --val-fraction 0 --checkpoint-every 0 --host-level no \
		--log-json "$tmp/np$np.jsonl" -o "$tmp/np$np.ssmf" "$@"
done
/usr/bin/python3 - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
rows = {}
for np in (1, 2):
    log = [json.loads(l) for l in open(os.path.join(tmp, f"np{np}.jsonl"))]
    start = next(o for o in log if o["event"] == "start")
    st = [o for o in log if o["event"] == "step"]
    done = next(o for o in log if o["event"] == "done")
    pps = st[-1]["packets_per_s"]
    secs = sum(o["packets"] for o in st) / pps
    rows[np] = dict(pps=pps, step_ms=1e3 * secs / len(st), steps=len(st),
                    comm=done.get("comm_s", 0.0) / secs, params=start["n_params"],
                    losses=[o["loss"] for o in st])
same = rows[1]["losses"] == rows[2]["losses"]
print(f"data-parallel training, default config ({rows[1]['params']:,} parameters, "
      f"{4 * rows[1]['params']:,} gradient bytes a step), batch 32 flows, max-len 256, "
      f"{rows[1]['steps']} steps, 1 thread per process; np 2 losses identical to np 1: {same}")
print(f"{'np':>2} {'pkt/s':>9} {'ms/step':>8} {'comm share':>10} {'ratio':>6}")
for np, r in rows.items():
    print(f"{np:2d} {r['pps']:9.0f} {r['step_ms']:8.1f} {100 * r['comm']:9.1f}% "
          f"{r['pps'] / rows[1]['pps']:5.2f}x")
PY
