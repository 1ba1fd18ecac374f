#!/bin/sh
# bench/score: ssmflow score end to end on a capture (sequence mode, the default, with and
# without the host level, and step mode) and on the dataset extracted from it (with and
# without the host level), beside ssmflow extract alone and the model alone on the same flows
# (bench_score_forward: the packet level's ssmf_infer, batched as score does, and the host
# level's ssmf_hosts_score), in the same run. A row with the host level is compared with
# both levels' model time, a row without it with the packet level's. Each program RUNS times (step mode STEP_RUNS times, from the environment):
# wall seconds, CPU seconds (user + system, all threads) and peak RSS as min/median/max.
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
    """(wall s, CPU s, peak RSS MiB) per run, from the child's own resource usage."""
    out = []
    for _ in range(k):
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        if status:
            sys.exit(f"{' '.join(cmd)}: exit status {status}")
        out.append((time.perf_counter() - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024))
    return out


def forward(th):
    """bench_score_forward on the full dataset: the wall and CPU time of the packet level's
    ssmf_infer calls, and of the host level (ssmf_hosts_score) over the same flows."""
    packet, host = [], []
    for _ in range(runs):
        r = subprocess.run([f"{build}/bench/score/bench_score_forward", full, str(th)],
                           capture_output=True, text=True, check=True)
        kv = dict(x.split("=") for x in r.stdout.split()[1:])
        packet.append((float(kv["seconds"]), float(kv["cpu_seconds"]), float("nan")))
        host.append((float(kv["host_seconds"]), float(kv["host_cpu_seconds"]), float("nan")))
    return packet, host


def med(xs):
    return sorted(xs)[len(xs) // 2]


def spread(xs, fmt):
    xs = sorted(xs)
    return "/".join(fmt % x for x in (xs[0], xs[len(xs) // 2], xs[-1]))


full = f"{tmp}/full.h5"  # every packet of every flow, as the capture is scored
subprocess.run([exe, "extract", "-q", "--max-packets", "65536", "-o", full, inp], check=True)
rows = [("ssmflow extract", None, measure([exe, "extract", "-q", "-o", f"{tmp}/o.h5", inp]))]
ext = rows[0][2]
for th in sorted({1, ncpu}):
    fwd, host = forward(th)
    both = [(a[0] + b[0], a[1] + b[1], a[2]) for a, b in zip(fwd, host)]
    rows.append((f"forward alone (ssmf_infer), {th} thread(s)", None, fwd))
    rows.append((f"host level alone (ssmf_hosts_score), {th} thread(s)", None, host))
    # with the host level, the reference is both levels' model time
    rows.append((f"score capture, sequence mode, {th} thread(s)", (ext, both),
                 measure([exe, "score", "-q", "--threads", str(th), "-o", f"{tmp}/s.h5", inp])))
    # the host level off: what it costs is the difference to the row above
    rows.append((f"score capture, sequence mode, host level off, {th} thread(s)", (ext, fwd),
                 measure([exe, "score", "-q", "--threads", str(th), "--host-weight", "0", "-o",
                          f"{tmp}/s0.h5", inp])))
rows.append((f"score capture, --mode step, {ncpu} thread(s)", (ext, both),
             measure([exe, "score", "-q", "--mode", "step", "--threads", str(ncpu), "-o",
                      f"{tmp}/p.h5", inp], int(os.environ.get("STEP_RUNS", runs)))))
rows.append((f"score dataset (all packets), {ncpu} thread(s)", (None, both),
             measure([exe, "score", "-q", "--threads", str(ncpu), "-o", f"{tmp}/d.h5", full])))
rows.append((f"score dataset (all packets), host level off, {ncpu} thread(s)", (None, fwd),
             measure([exe, "score", "-q", "--threads", str(ncpu), "--host-weight", "0", "-o",
                      f"{tmp}/d0.h5", full])))
print(f"input: {n} packets, {os.path.getsize(inp) / 2**20:.0f} MiB (bench/extract/make_input.py "
      f"repeat); {ncpu} cores; min/median/max of {runs} runs")
print("| program | kpkt/s (median wall) | wall s | CPU s | peak RSS MiB "
      "| vs extract + forward: wall, CPU |")
print("|---|---|---|---|---|---|")
for name, ref, ms in rows:
    wall, cpu, rss = ([m[i] for m in ms] for i in range(3))
    rel = "-"
    if ref:  # medians: ours over the reference's (extract + forward, or forward alone)
        e, f = ref
        rw = med([m[0] for m in f]) + (med([m[0] for m in e]) if e else 0)
        rc = med([m[1] for m in f]) + (med([m[1] for m in e]) if e else 0)
        rel = f"{med(wall) / rw:.2f}x, {med(cpu) / rc:.2f}x"
    r = spread(rss, "%.0f") if rss[0] == rss[0] else "-"
    rate = "-" if name.startswith("host level") else f"{n / med(wall) / 1e3:.1f}"  # events
    print(f"| {name} | {rate} | {spread(wall, '%.2f')} | "
          f"{spread(cpu, '%.2f')} | {r} | {rel} |")
PY
