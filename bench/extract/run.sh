#!/bin/sh
# bench/extract: ssmflow extract beside the bare libpcap loop and tshark, same input, same run.
# usage: bench/extract/run.sh [BUILD_DIR] [REPEAT]   (needs ../shared/data, tshark)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
repeat=${2:-14}
data=${SSMF_DATA:-$here/../../../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/make_input.py" "$data" "$tmp/in.pcap" "$repeat" >&2
python3 "$here/make_input.py" "$data" "$tmp/in4.pcap" "$((repeat * 4))" >&2
python3 - "$build" "$tmp" <<'PY'
import os, resource, shutil, subprocess, sys, time
build, tmp = sys.argv[1], sys.argv[2]

def measure(cmd):
    # A fresh wrapper per command, so ru_maxrss is this command's own peak.
    code = ("import resource,subprocess,sys,time\n"
            "t=time.perf_counter();subprocess.run(sys.argv[1:],check=True,"
            "stdout=subprocess.DEVNULL);dt=time.perf_counter()-t\n"
            "u=resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "print(dt, u.ru_maxrss, u.ru_utime + u.ru_stime)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024.0, float(out[2])

def npk(path):
    return int(subprocess.run([f"{build}/bench/extract/bench_pcap_loop", path],
                              capture_output=True, text=True).stdout.split()[0])

inp, inp4 = f"{tmp}/in.pcap", f"{tmp}/in4.pcap"
n, n4 = npk(inp), npk(inp4)
size = os.path.getsize(inp) / 2**20
rows = []
loop = min(measure([f"{build}/bench/extract/bench_pcap_loop", inp]) for _ in range(3))
ours = min(measure([f"{build}/ssmflow", "extract", "-q", "-o", f"{tmp}/o.h5", inp]) for _ in range(3))
ours4 = measure([f"{build}/ssmflow", "extract", "-q", "-o", f"{tmp}/o4.h5", inp4])
tsh = measure(["tshark", "-r", inp, "-q", "-z", "conv,tcp", "-z", "conv,udp"])
# the provenance digest alone (extract computes the same SHA-256 through OpenSSL's EVP): a
# floor under extract's CPU time that no pipelining removes
sha = None
if shutil.which("openssl"):
    sha = min(measure(["openssl", "dgst", "-sha256", inp]) for _ in range(3))
# extract's main thread alone (read, decode, flow table), by its own thread CPU time
ing = subprocess.run([f"{build}/bench/extract/bench_ingest_loop", inp, "3"], capture_output=True,
                     text=True, check=True).stdout
out_mb = os.path.getsize(f"{tmp}/o.h5") / 2**20
print(f"input: {n} packets, {size:.0f} MiB (bench/extract/make_input.py); output {out_mb:.1f} MiB")
print(f"{'program':44s} {'Mpkt/s':>8s} {'seconds':>8s} {'peak RSS MiB':>12s} {'ours/it':>8s}")
def row(name, r, count, ratio):
    print(f"{name:44s} {count / r[0] / 1e6:8.2f} {r[0]:8.2f} {r[1]:12.1f} {ratio:>8s}")
row("ssmflow extract (HDF5 + shuffle + zstd 1)", ours, n, "1.00")
row("bare libpcap loop (pcap_next_ex only)", loop, n, f"{loop[0] / ours[0]:.2f}")
row("tshark -q -z conv,tcp -z conv,udp", tsh, n, f"{tsh[0] / ours[0]:.2f}")
if sha:
    row("SHA-256 of the input alone (openssl dgst)", sha, n, f"{sha[0] / ours[0]:.2f}")
ing_s = float(ing.split(" s thread CPU")[0].split()[-1])
print(f"{'ssmflow main thread alone (thread CPU time)':44s} {n / ing_s / 1e6:8.2f} {ing_s:8.2f} "
      f"{'-':>12s} {ing_s / ours[0]:8.2f}")
print(f"ssmflow extract CPU time, all threads: {ours[2]:.2f} s = {n / ours[2] / 1e6:.2f} Mpkt/s "
      f"per CPU-second")
print(f"peak RSS, 4x the input ({n4} packets): ssmflow {ours4[1]:.1f} MiB "
      f"(1x: {ours[1]:.1f} MiB; ratio {ours4[1] / ours[1]:.2f})")
PY
