"""Every capture of ../shared/data/robustness through `ssmflow extract`.

No crash, no sanitizer report (when built with SSMF_SANITIZE), and an exit code
from the documented set: 0 ok, 2 unreadable input, 3 damaged input. Files that
libpcap refuses (reference/libpcap-rejects.tsv) must not exit 0 and must say why
on one line naming the file, except multi-interface pcapng whose interfaces
differ ("... different from the ... of the first interface"), which our own
pcapng reader reads: those must exit 0 with nothing on stderr (their packet
counts are checked against tshark by oracle.pcapng_multi_interface).
"""
import concurrent.futures
import os
import subprocess
import sys
import tempfile

ALLOWED = {0, 2, 3}


def run_one(ssmflow, path, outdir, i):
    out = os.path.join(outdir, f"{i}.h5")
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=99")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=98")
    try:
        p = subprocess.run([ssmflow, "extract", "-q", "-o", out, path], capture_output=True,
                           text=True, errors="replace", env=env, timeout=120)
    except subprocess.TimeoutExpired:
        return path, None, "timed out (hang?)"
    finally:
        if os.path.exists(out):
            os.unlink(out)
    return path, p.returncode, p.stderr


def main(ssmflow, data):
    root = os.path.join(data, "robustness")
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
    rejects, read_by_us = set(), set()
    with open(os.path.join(data, "reference", "libpcap-rejects.tsv")) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            path = os.path.join(data, cols[0])
            if len(cols) > 3 and "of the first interface" in cols[3]:
                read_by_us.add(path)
            else:
                rejects.add(path)
    failures, codes = [], {}
    with tempfile.TemporaryDirectory() as td, \
            concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        futs = [ex.submit(run_one, ssmflow, p, td, i) for i, p in enumerate(files)]
        for fut in concurrent.futures.as_completed(futs):
            path, rc, err = fut.result()
            codes[rc] = codes.get(rc, 0) + 1
            if rc is None or rc not in ALLOWED:
                failures.append(f"{path}: exit {rc}\n{err[-2000:]}")
            elif "Sanitizer" in err or "runtime error:" in err:
                failures.append(f"{path}: sanitizer report\n{err[-2000:]}")
            elif path in read_by_us and (rc != 0 or err.strip()):
                failures.append(f"{path}: our pcapng reader should read it: exit {rc}: "
                                f"{err.strip()}")
            elif path in rejects and (rc == 0 or os.path.basename(path) not in err):
                failures.append(f"{path}: libpcap rejects it, but exit {rc}: {err.strip()}")
            elif rc != 0 and len([ln for ln in err.splitlines() if "error:" in ln]) > 2:
                failures.append(f"{path}: more than a line or two of errors:\n{err}")
    print(f"{len(files)} captures; exit codes {dict(sorted(codes.items(), key=str))}; "
          f"{len(failures)} failures")
    for f in failures[:20]:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
