#!/bin/sh
# bench/score: ssmflow score end to end on a capture, beside ssmflow extract alone on the
# same capture, in the same run. usage: bench/score/run.sh [BUILD_DIR] [REPEAT]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
repeat=${2:-2}
data=${SSMF_DATA:-$here/../../../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/../extract/make_input.py" "$data" "$tmp/in.pcap" "$repeat" >&2
python3 - "$build" "$tmp" <<'PY'
import os, subprocess, sys, time
build, tmp = sys.argv[1], sys.argv[2]
inp = f"{tmp}/in.pcap"
n = int(subprocess.run([f"{build}/bench/extract/bench_pcap_loop", inp], capture_output=True,
                       text=True).stdout.split()[0])
def best(cmd, k=2):
    t = []
    for _ in range(k):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        t.append(time.perf_counter() - t0)
    return min(t)
ncpu = os.cpu_count()
ext = best([f"{build}/ssmflow", "extract", "-q", "-o", f"{tmp}/o.h5", inp])
rows = [("ssmflow extract (records + summaries to HDF5)", ext)]
for th in sorted({1, ncpu}):
    rows.append((f"ssmflow score, step mode, {th} thread(s), bundled model",
                 best([f"{build}/ssmflow", "score", "-q", "--threads", str(th), "-o",
                       f"{tmp}/s.h5", inp])))
rows.append((f"ssmflow score of the dataset, sequence mode, {ncpu} thread(s)",
             best([f"{build}/ssmflow", "score", "-q", "-o", f"{tmp}/d.h5", f"{tmp}/o.h5"])))
print(f"input: {n} packets (bench/extract/make_input.py); "
      f"{ncpu} cores")
print(f"{'program':60s} {'kpkt/s':>9s} {'seconds':>8s} {'extract/it':>10s}")
for name, t in rows:
    print(f"{name:60s} {n / t / 1e3:9.1f} {t:8.2f} {ext / t:10.3f}")
PY
