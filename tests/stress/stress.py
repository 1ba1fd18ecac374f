"""The stress run: hostile traffic through `ssmflow extract` and `ssmflow score`.

    stress.py SSMFLOW [--packets N] [--memory-cap 256M] [--margin-mib M] [--workdir DIR]
              [--keep]

Not part of CTest (minutes, and gigabytes on disk at 10 M packets): run it by
hand, niced (docs/robustness.md has the command and the numbers).

gen_hostile.py writes N packets of generated hostile traffic mixed with normal
traffic. Then, each under --memory-cap and /usr/bin/time -v:
- `extract`: the dataset's provenance must count every packet: packets_read
  equals the generator's count and capinfos' (the oracle), and equals
  packets_decoded plus every skip reason; each skip reason and the decoded
  count lie within what the generator meant (its random-bytes packets may land
  anywhere); the flows' packets (fwd + bwd) add up to packets_decoded.
- `score -o CSV`: its summary's packets read, decoded and skipped equal the
  dataset's, and the packets scored (the summary, and the CSV's packets_scored
  column) equal the packets decoded.
Both: exit 0 and no sanitizer report on stderr. Peak RSS (time -v's maximum
resident set size): extract's below the cap plus --margin-mib; score's below that
plus --score-flow-bytes per flow scored, since score keeps every flow's result
(struct ssmf_flow_score, and the host level's events) until it sorts and writes
them, which --memory-cap does not bound. Prints one line per
check and a table of the measurements; exits 1 on the first failed check.
"""
import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SANITIZER_MARKS = ("Sanitizer", "runtime error:")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def size_mib(text):
    units = {"K": 1 / 1024, "M": 1, "G": 1024}
    return float(text[:-1]) * units[text[-1].upper()]


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns (exit code, stderr, seconds, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".time") as tf:
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name, *cmd], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, errors="replace", env=env)
        secs = time.monotonic() - t0
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read())
    if not m:
        fail(f"no peak RSS from /usr/bin/time for {cmd}")
    return p.returncode, p.stderr, secs, int(m.group(1)) / 1024.0


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        sys.exit(1)


def capinfos_packets(path):
    out = subprocess.run(["capinfos", "-M", "-T", "-r", "-c", path], capture_output=True,
                         text=True, check=True).stdout
    return int(out.strip().split("\t")[-1])


def run_checked(name, cmd, env):
    rc, err, secs, rss = timed(cmd, env)
    check(not any(s in err for s in SANITIZER_MARKS), f"{name}: no sanitizer report")
    check(rc == 0, f"{name}: exit 0 (got {rc}: {err.strip()[-500:]})")
    return err, secs, rss


def score_summary(err):
    """The counts of score's last summary lines."""
    m = re.search(r"(\d+) flows, (\d+) packets scored", err)
    r = re.search(r"(\d+) packets read, (\d+) decoded, (\d+) skipped", err)
    if not m or not r:
        fail(f"score printed no summary: {err[-1000:]}")
    return {"flows": int(m.group(1)), "scored": int(m.group(2)), "read": int(r.group(1)),
            "decoded": int(r.group(2)), "skipped": int(r.group(3))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ssmflow")
    ap.add_argument("--packets", type=int, default=10_000_000)
    ap.add_argument("--memory-cap", default="256M")
    ap.add_argument("--margin-mib", type=float, default=64,
                    help="peak RSS allowed above the cap (default 64)")
    ap.add_argument("--score-flow-bytes", type=float, default=1280,
                    help="score's peak RSS allowed per flow beyond that (default 1280)")
    ap.add_argument("--workdir", help="where the capture and outputs go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    cap_mib = size_mib(a.memory_cap)
    wd = a.workdir or tempfile.mkdtemp(prefix="ssmflow-stress-")
    os.makedirs(wd, exist_ok=True)
    env = dict(os.environ)
    # ASan keeps freed memory in quarantine (256 MiB by default): a small one, so that
    # RSS measures what the program holds.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8"
    # h5py needs our zstd filter (built beside the binary) to read the records
    os.environ.setdefault("HDF5_PLUGIN_PATH",
                          os.path.join(os.path.dirname(os.path.abspath(a.ssmflow)), "plugins"))
    import h5py
    pcap, ds, scores = (os.path.join(wd, n) for n in ("hostile.pcap", "hostile.h5", "scores.csv"))
    try:
        t0 = time.monotonic()
        gen = json.loads(subprocess.run([sys.executable, os.path.join(HERE, "gen_hostile.py"),
                                         pcap, str(a.packets)], capture_output=True, text=True,
                                        check=True).stdout)
        gen_secs = time.monotonic() - t0
        n = gen["packets"]
        check(n == a.packets, f"generator wrote {n} packets")
        check(capinfos_packets(pcap) == n, f"capinfos counts {n} packets")

        err, x_secs, x_rss = run_checked(
            "extract", [a.ssmflow, "extract", "-o", ds, "--memory-cap", a.memory_cap, pcap],
            env)
        check(x_rss < cap_mib + a.margin_mib,
              f"extract: peak RSS {x_rss:.0f} MiB < cap {cap_mib:.0f} + {a.margin_mib:.0f} MiB")
        with h5py.File(ds) as f:
            at = {k: int(v) for k, v in f.attrs.items() if k.startswith(("packets_", "skipped_"))
                  or k.startswith(("flows", "fragment"))}
            fl = f["flows"]
            flow_packets = int(fl["fwd_packets"].astype("u8").sum() +
                               fl["bwd_packets"].astype("u8").sum())
        skipped = sum(v for k, v in at.items() if k.startswith("skipped_"))
        check(at["packets_read"] == n, f"extract: packets_read {at['packets_read']} = {n}")
        check(at["packets_decoded"] + skipped == n,
              f"extract: decoded {at['packets_decoded']} + skipped {skipped} = read")
        slack = gen["expect"].get("any", 0)
        for what, want in gen["expect"].items():
            if what == "any":
                continue
            got = at["packets_decoded" if what == "decoded" else what]
            check(want <= got <= want + slack,
                  f"extract: {what} {got} within the generator's {want} + {slack} random")
        check(flow_packets == at["packets_decoded"],
              f"extract: the flows' packets add up to packets_decoded ({flow_packets})")

        err, s_secs, s_rss = run_checked(
            "score", [a.ssmflow, "score", "-o", scores, "--memory-cap", a.memory_cap, pcap],
            env)
        s = score_summary(err)
        bound = cap_mib + a.margin_mib + s["flows"] * a.score_flow_bytes / 2**20
        check(s_rss < bound, f"score: peak RSS {s_rss:.0f} MiB < cap {cap_mib:.0f} + "
              f"{a.margin_mib:.0f} MiB + {s['flows']} flows x {a.score_flow_bytes:.0f} B "
              f"= {bound:.0f} MiB")
        check((s["read"], s["decoded"], s["skipped"]) == (n, at["packets_decoded"], skipped),
              f"score: read {s['read']}, decoded {s['decoded']}, skipped {s['skipped']}"
              " as in the dataset")
        with open(scores, newline="") as f:
            rows = [int(r["packets_scored"]) for r in csv.DictReader(f)]
        check(s["scored"] == at["packets_decoded"] == sum(rows),
              f"score: {s['scored']} packets scored = decoded = the CSV's sum; "
              f"{len(rows)} flows")

        print("\n| step | seconds | peak RSS MiB | packets/s |\n|---|---|---|---|")
        print(f"| generate ({os.path.getsize(pcap) / 2**20:.0f} MiB pcap) | {gen_secs:.1f} | - "
              f"| {n / gen_secs:,.0f} |")
        print(f"| extract --memory-cap {a.memory_cap} | {x_secs:.1f} | {x_rss:.0f} | "
              f"{n / x_secs:,.0f} |")
        print(f"| score --memory-cap {a.memory_cap} | {s_secs:.1f} | {s_rss:.0f} | "
              f"{n / s_secs:,.0f} |")
        print("\ndataset:", json.dumps(at, sort_keys=True))
        print("score:", json.dumps(s, sort_keys=True), "csv rows", len(rows))
        print("generator:", json.dumps(gen, sort_keys=True))
    finally:
        if not a.keep and not a.workdir:
            shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()
