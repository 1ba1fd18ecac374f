"""`ssmflow extract` on bad input and bad luck: exit codes, one-line errors, nothing lost.

Oracles: tcpdump's packet counts for damaged captures (reference/libpcap-rejects.tsv),
tshark for filtered packet counts, and the file system (no partial file under a
final name).
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from common import fail, tmpdir  # noqa: E402

NDPI = "traffic/nDPI/tests/cfgs/default/pcap"


def run(ssmflow, *args, **kw):
    return subprocess.run([ssmflow, *args], capture_output=True, text=True, **kw)


def expect(p, code, what):
    if p.returncode != code:
        fail(f"{what}: exit {p.returncode}, expected {code}; stderr: {p.stderr.strip()}")


def error_lines(p):
    return [ln for ln in p.stderr.splitlines() if ln.startswith("ssmflow: ")]


def main(ssmflow, data):
    good = os.path.join(data, NDPI, "1kxun.pcap")
    with tmpdir() as td:
        out = os.path.join(td, "out.h5")

        # Truncated capture: keep what came before, warn once, exit 3.
        trunc = os.path.join(data, "robustness/suricata-verify/tests/http-mime-truncated/input.pcap")
        p = run(ssmflow, "extract", "-o", out, trunc)
        expect(p, 3, "truncated capture")
        warn = [ln for ln in error_lines(p) if "warning" in ln]
        if len(warn) != 1 or trunc not in warn[0] or "packet 2697" not in warn[0]:
            fail(f"truncated capture: expected one warning naming the file and packet 2697: {warn}")
        with h5py.File(out) as f:
            if int(f.attrs["packets_read"]) != 2696:  # tcpdump reads 2696 before the damage
                fail(f"truncated capture: {f.attrs['packets_read']} packets kept, tcpdump reads 2696")
            if f["inputs"][0]["status"].decode() != "partial":
                fail("truncated capture: provenance status is not 'partial'")

        # A capture libpcap refuses, beside a good one: error naming it, the good one processed.
        # (Multi-interface pcapng, which libpcap also refuses, is now read by our own
        # reader: tests/oracle/test_pcapng_multi.py.)
        mixed = os.path.join(data, "robustness/libpcap/tests/pcapng-invalid-vers-1.pcapng")
        shutil.copy(good, os.path.join(td, "keep.h5"))
        p = run(ssmflow, "extract", "-q", "-o", out, mixed, good)
        expect(p, 2, "refused + good input")
        errs = error_lines(p)
        if len(errs) != 1 or mixed not in errs[0] or "unsupported pcapng savefile version" not in errs[0]:
            fail(f"refused input: expected one error line with libpcap's reason: {errs}")
        with h5py.File(out) as f:
            st = [r["status"].decode() for r in f["inputs"][:]]
            if st != ["refused", "ok"] or len(f["flows"]) == 0:
                fail(f"refused + good input: statuses {st}, {len(f['flows'])} flows")

        # Nothing readable: exit 2 and the existing output is left as it was.
        before = open(out, "rb").read()
        p = run(ssmflow, "extract", "-q", "-o", out, os.path.join(td, "missing.pcap"))
        expect(p, 2, "missing input")
        if "missing.pcap" not in p.stderr or open(out, "rb").read() != before:
            fail("missing input: no clear error, or the previous output was changed")

        # Output directory missing: exit 4, one line.
        p = run(ssmflow, "extract", "-q", "-o", os.path.join(td, "no/such/dir/x.h5"), good)
        expect(p, 4, "missing output directory")
        if len(error_lines(p)) != 1 or "no/such/dir" not in p.stderr:
            fail(f"missing output directory: {p.stderr}")

        # Usage errors: exit 1.
        expect(run(ssmflow, "extract", good), 1, "no -o")
        expect(run(ssmflow, "extract", "-o", out, "--filter", "port port", good), 1, "bad filter")
        expect(run(ssmflow, "extract", "-o", out, "--idle-timeout", "x", good), 1, "bad timeout")
        expect(run(ssmflow, "frobnicate"), 1, "unknown command")

        # --filter: the packets tshark counts with the same BPF filter.
        p = run(ssmflow, "extract", "-q", "-o", out, "--filter", "udp port 53", good)
        expect(p, 0, "--filter")
        tshark = subprocess.run(["tshark", "-r", good, "-Y", "udp.port == 53 && !icmp"],
                                capture_output=True, text=True).stdout.count("\n")
        with h5py.File(out) as f:
            n = int(f.attrs["packets_read"])
        if n != tshark or n == 0:
            fail(f"--filter 'udp port 53': {n} packets, tshark counts {tshark}")

        # Inputs out of time order: a warning that time goes backwards.
        later = os.path.join(data, NDPI, "443-chrome.pcap")  # 2020, after 1kxun's 2016 start
        p = run(ssmflow, "extract", "-q", "-o", out, later, good)
        expect(p, 0, "inputs out of order")
        if "time goes backwards" not in p.stderr:
            fail(f"inputs out of order: no warning: {p.stderr}")

        # SIGINT and SIGTERM while reading a pipe: no file under the final name, none left over.
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            final = os.path.join(td, f"sig{sig}.h5")
            proc = subprocess.Popen([ssmflow, "extract", "-q", "-o", final, "-"],
                                    stdin=subprocess.PIPE, stderr=subprocess.PIPE)
            proc.stdin.write(open(good, "rb").read())
            proc.stdin.flush()
            time.sleep(0.5)  # reading; the pipe stays open
            proc.send_signal(sig)
            rc = proc.wait(timeout=30)
            proc.stdin.close()
            left = [x for x in os.listdir(td) if x.startswith(f"sig{sig}.h5")]
            if rc != code or left:
                fail(f"signal {sig}: exit {rc} (expected {code}), files left: {left}")
    print("extract CLI checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
