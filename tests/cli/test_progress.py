#!/usr/bin/env python3
"""Progress on a terminal: extract and score show percent of input bytes read, rate and
time left, train its steps, on stderr under a pty (Python's pty module); nothing of it
when stderr is a pipe or with --quiet. The totals shown are checked against the input
sizes (os.path.getsize, formatted here) and train's own step count.

usage: test_progress.py SSMFLOW DATA_DIR
"""
import os
import pty
import re
import subprocess
import sys
import tempfile

CAPTURE = ("robustness/suricata-verify/tests/ipv6-evasion/ipv6-dos-with-ext-headers-6/"
           "denial6-6.pcap")  # 4 MB
SMALL = ["--d-model", "32", "--d-state", "8", "--headdim", "8", "--n-layer", "1"]
CLEAR = "\r\x1b[K"
BYTES_LINE = re.compile(r"\r\x1b\[K *(\d+)% ([\d.]+ [kMGT]?B) of ([\d.]+ [kMGT]?B), "
                        r"[\d.]+ [kMGT]?B/s, (\d+m\d\ds|\?) left")
STEPS_LINE = re.compile(r"\r\x1b\[K *(\d+)% step (\d+)/(\d+), [\d.]+ steps/s, "
                        r"(\d+m\d\ds|\?) left  epoch \d+ loss")

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, file=sys.stderr)


def human(n):
    """The size as the progress line writes it (powers of 1000, one decimal)."""
    units = ["B", "kB", "MB", "GB", "TB"]
    u = 0
    while n >= 1000 and u < 4:
        n /= 1000
        u += 1
    return f"{n:.1f} {units[u]}" if u else f"{n:.0f} B"


def under_pty(cmd):
    """stderr of cmd when it is a terminal (stdout goes to /dev/null)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    rc = p.wait()
    return rc, out.decode(errors="replace").replace("\r\n", "\n")


def piped(cmd):
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stderr


def check_bytes(name, text, total):
    lines = BYTES_LINE.findall(text)
    if not lines:
        fail(f"{name}: no progress line on the terminal: {text[:300]!r}")
        return
    pct = [int(x[0]) for x in lines]
    if pct != sorted(pct) or pct[-1] > 100:
        fail(f"{name}: percentages {pct} do not rise to at most 100")
    if any(x[2] != human(total) for x in lines):
        fail(f"{name}: total shown {lines[0][2]}, the inputs hold {human(total)}")
    tail = text[text.rfind("left"):]
    if CLEAR not in tail:
        fail(f"{name}: the progress line is not cleared at the end: {tail[:200]!r}")
    print(f"{name}: {len(lines)} progress lines, {pct[0]}% .. {pct[-1]}% of {human(total)}")


def no_progress(name, rc, text):
    if rc not in (0, 3):
        fail(f"{name}: exit {rc}: {text[-300:]}")
    if "\r" in text or "\x1b[" in text or " left" in text:
        fail(f"{name}: progress without a terminal (or with --quiet): {text[:200]!r}")


def main():
    ssmflow, data = sys.argv[1], sys.argv[2]
    cap = os.path.join(data, CAPTURE)
    many = [cap] * 50  # long enough to be drawn (the line is redrawn every 0.25 s)
    with tempfile.TemporaryDirectory(prefix="ssmflow-progress-") as td:
        extract = [ssmflow, "extract", "--records", "-"] + many
        score = [ssmflow, "score", "-o", os.path.join(td, "s.csv"), cap]
        ds = os.path.join(td, "d.h5")
        subprocess.run([ssmflow, "extract", "-q", "-o", ds, cap], check=True)
        train = [ssmflow, "train", "-o", os.path.join(td, "m.ssmf"), "--epochs", "40",
                 "--batch-size", "8", "--threads", "1"] + SMALL + [ds]

        rc, text = under_pty(extract)
        if rc:
            fail(f"extract under a pty: exit {rc}")
        check_bytes("extract", text, sum(map(os.path.getsize, many)))
        rc, text = under_pty(score)
        if rc:
            fail(f"score under a pty: exit {rc}")
        check_bytes("score", text, os.path.getsize(cap))
        rc, text = under_pty(train)
        m = re.search(r"(\d+) steps", text)
        steps = STEPS_LINE.findall(text)
        if rc or not m or not steps:
            fail(f"train under a pty: exit {rc}, no step progress: {text[:300]!r}")
        else:
            # both levels announce their steps (the packet level's, then the host level's)
            planned = {int(x) for x in re.findall(r"batches per epoch, (\d+) steps", text)}
            if any(int(s[2]) not in planned for s in steps):
                fail(f"train: progress counts to {steps[0][2]}, the runs plan {planned} steps")
            if CLEAR not in text[text.rfind("left"):]:
                fail("train: the progress line is not cleared")
            print(f"train: {len(steps)} progress lines, step {steps[0][1]} .. {steps[-1][1]} "
                  f"of {m.group(1)}")

        for name, cmd in (("extract", extract), ("score", score), ("train", train)):
            no_progress(f"{name} with stderr a pipe", *piped(cmd))
            no_progress(f"{name} --quiet on a terminal", *under_pty(cmd[:2] + ["-q"] + cmd[2:]))
    print(f"progress: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
