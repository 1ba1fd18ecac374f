#!/bin/sh
# bench/score: ssmflow score end to end on a capture (sequence mode, the default, and step
# mode) and on the dataset extracted from it, beside ssmflow extract alone and bench/model's
# forward (ssmf_infer) in the same run; each program RUNS times (step mode STEP_RUNS times, from
# the environment), seconds and peak RSS as min / median / max.
# usage: [STEP_RUNS=K] bench/score/run.sh [BUILD_DIR] [REPEAT] [RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
repeat=${2:-16}
runs=${3:-3}
data=${SSMF_DATA:-$here/../../../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/../extract/make_input.py" "$data" "$tmp/in.pcap" "$repeat" >&2
python3 - "$build" "$tmp" "$runs" <<'PY'
import os, subprocess, sys, time
build, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
inp, exe = f"{tmp}/in.pcap", f"{build}/ssmflow"
n = int(subprocess.run([f"{build}/bench/extract/bench_pcap_loop", inp], capture_output=True,
                       text=True).stdout.split()[0])
ncpu = os.cpu_count()


def measure(cmd, k=runs):
    """(seconds, peak RSS MiB) per run: wall time, the child's own maximum resident set."""
    out = []
    for _ in range(k):
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        if status:
            sys.exit(f"{' '.join(cmd)}: exit status {status}")
        out.append((time.perf_counter() - t0, ru.ru_maxrss / 1024))
    return out


def spread(xs, fmt):
    xs = sorted(xs)
    return "/".join(fmt % x for x in (xs[0], xs[len(xs) // 2], xs[-1]))


def model_forward(th):
    """bench/model's forward (score mode: ssmf_infer on 64 flows x 128 packets): seconds
    for n packets at its packets/s, one figure per run."""
    t = []
    for _ in range(runs):
        r = subprocess.run([f"{build}/bench/model/ssm_bench_model", str(th), "64", "128", "2"],
                           capture_output=True, text=True, check=True,
                           env=dict(os.environ, OMP_NUM_THREADS=str(th)))
        line = next(x for x in r.stdout.splitlines() if x.startswith("ours score"))
        pps = float(line.split("pkts_per_s=")[1].split()[0])
        t.append(n / pps)
    return t


ds = f"{tmp}/o.h5"
rows = [("ssmflow extract (records + summaries to HDF5)",
         measure([exe, "extract", "-q", "-o", ds, inp]))]
ext = sorted(t for t, _ in rows[0][1])[runs // 2]
fwd = {}
for th in sorted({1, ncpu}):
    fwd[th] = model_forward(th)
    rows.append((f"bench/model forward alone, {th} thread(s), same packet count",
                 [(t, float("nan")) for t in fwd[th]]))
    rows.append((f"ssmflow score, capture, sequence mode, {th} thread(s)",
                 measure([exe, "score", "-q", "--threads", str(th), "-o", f"{tmp}/s.h5", inp])))
rows.append((f"ssmflow score, capture, --mode step, {ncpu} thread(s)",
             measure([exe, "score", "-q", "--mode", "step", "--threads", str(ncpu), "-o",
                      f"{tmp}/p.h5", inp], int(os.environ.get("STEP_RUNS", runs)))))
rows.append((f"ssmflow score, the dataset, {ncpu} thread(s)",
             measure([exe, "score", "-q", "--threads", str(ncpu), "-o", f"{tmp}/d.h5", ds])))
print(f"input: {n} packets, {os.path.getsize(inp) / 2**20:.0f} MiB "
      f"(bench/extract/make_input.py, repeat); {ncpu} cores; {runs} runs, min/median/max")
print(f"| program | kpkt/s (median) | seconds | peak RSS MiB | vs extract + forward |")
print("|---|---|---|---|---|")
for name, ms in rows:
    ts = [t for t, _ in ms]
    med = sorted(ts)[len(ts) // 2]
    # the reference: bench/model's forward at the same threads, plus extract for a capture
    th = ncpu if f"{ncpu} thread" in name else 1
    ref = sorted(fwd[th])[runs // 2] + (ext if "capture" in name else 0)
    rel = f"{med / ref:.2f}x" if "ssmflow score" in name else "-"
    rss = spread([r for _, r in ms], "%.0f") if ms[0][1] == ms[0][1] else "-"
    print(f"| {name} | {n / med / 1e3:.1f} | {spread(ts, '%.2f')} | {rss} | {rel} |")
PY
