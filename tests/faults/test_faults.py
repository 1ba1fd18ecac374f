"""`ssmflow extract` under faults: signals, a full disk, unreadable inputs, bad output paths.

    test_faults.py SSMFLOW CASE      CASE: signals | disk_full | unreadable | output

Oracles: the file system (nothing under the final name, no temporary file left,
a previous output untouched), the documented exit codes, and one clear error line.

Train and score join here when those commands land: SIGINT/SIGTERM during
`score -o` and `train` leave no partial file under a final name, and SIGKILL
during `train` loses at most the steps since the last checkpoint (resume, then
compare with an uninterrupted run). See docs/robustness.md.
"""
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import pcapgen  # noqa: E402

EXIT_INPUT, EXIT_OUTPUT = 2, 4


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120, **kw)


def errors(p):
    return [ln for ln in p.stderr.splitlines() if ln.startswith("ssmflow: error")]


def leftovers(td, final):
    base = os.path.basename(final)
    return sorted(x for x in os.listdir(td) if x.startswith(base))


def expect_clean_failure(p, code, td, final, what, needle=None):
    if p.returncode != code:
        fail(f"{what}: exit {p.returncode}, expected {code}; stderr: {p.stderr.strip()[-800:]}")
    # One error saying what failed (and, for inputs, the summary line after it).
    errs = errors(p)
    if not 1 <= len(errs) <= 2 or (needle and needle not in errs[0]):
        fail(f"{what}: expected one error{' with ' + repr(needle) if needle else ''}: "
             f"{p.stderr.strip()[-800:]}")
    if "HDF5-DIAG" in p.stderr or "Sanitizer" in p.stderr:
        fail(f"{what}: library noise or a sanitizer report on stderr: {p.stderr[-800:]}")
    left = leftovers(td, final)
    if left:
        fail(f"{what}: files left under the final name or its temporary: {left}")


def case_signals(ssmflow, td):
    """SIGINT/SIGTERM while extracting a large file: exit 128+sig, the temporary
    file that existed during the run is gone, nothing under the final name."""
    big = os.path.join(td, "big.pcap")
    pcapgen.write_many_udp_flows(big, 1500000)
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        final = os.path.join(td, f"out-{int(sig)}.h5")
        proc = subprocess.Popen([ssmflow, "extract", "-q", "-o", final, big],
                                stderr=subprocess.PIPE, text=True)
        seen_tmp, t0 = [], time.monotonic()
        while not seen_tmp and proc.poll() is None and time.monotonic() - t0 < 30:
            seen_tmp = [x for x in leftovers(td, final) if ".tmp" in x]
            time.sleep(0.01)
        time.sleep(0.3)  # well inside the read loop
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        if not seen_tmp:
            fail(f"signal {sig}: never saw the temporary output file")
        if proc.returncode != code:
            fail(f"signal {sig}: exit {proc.returncode}, expected {code} (input too small "
                 f"to interrupt?): {err.strip()}")
        if "interrupted" not in err:
            fail(f"signal {sig}: no 'interrupted' message: {err.strip()}")
        left = leftovers(td, final)
        if left:
            fail(f"signal {sig}: left {left} (the temporary was {seen_tmp})")
    print("signals: exit 130/143, temporary removed, nothing under the final name")


def limit_fsize(nbytes):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return pre


def case_disk_full(ssmflow, td):
    """A full disk (RLIMIT_FSIZE: writes past the limit fail with EFBIG, as on a
    full file system): exit 4, one clear error, nothing under the final name and
    a previous output under that name untouched."""
    cap = os.path.join(td, "flows.pcap")
    pcapgen.write_many_udp_flows(cap, 200000)
    final = os.path.join(td, "full.h5")
    for limit in (4096, 32 * 1024, 96 * 1024):  # the full output is about 120 KiB
        p = run([ssmflow, "extract", "-q", "-o", final, cap], preexec_fn=limit_fsize(limit))
        expect_clean_failure(p, EXIT_OUTPUT, td, final, f"disk full at {limit} bytes")
        if "disk full" not in p.stderr and "File too large" not in p.stderr:
            fail(f"disk full at {limit}: the error does not say why: {p.stderr.strip()}")
    # A previous good output under the final name survives a failed run.
    p = run([ssmflow, "extract", "-q", "-o", final, cap])
    if p.returncode != 0:
        fail(f"disk full: the unlimited run failed: {p.stderr}")
    before = open(final, "rb").read()
    p = run([ssmflow, "extract", "-q", "-o", final, cap], preexec_fn=limit_fsize(64 * 1024))
    if p.returncode != EXIT_OUTPUT or open(final, "rb").read() != before:
        fail(f"disk full: exit {p.returncode}, or the previous output changed")
    if [x for x in leftovers(td, final) if x != "full.h5"]:
        fail(f"disk full: temporary left: {leftovers(td, final)}")
    print("disk full: exit 4, one error line, previous output kept, no temporary left")


def case_disk_full_score_train(ssmflow, td):
    """A full disk under score's outputs (CSV, JSON lines, HDF5) and train's model: exit 4,
    one clear error, nothing under the final name."""
    cap = os.path.join(td, "flows.pcap")
    pcapgen.write_many_udp_flows(cap, 20000)
    for ext in ("csv", "jsonl", "h5"):
        final = os.path.join(td, f"scores.{ext}")
        p = run([ssmflow, "score", "-q", "-o", final, cap], preexec_fn=limit_fsize(16 * 1024))
        expect_clean_failure(p, EXIT_OUTPUT, td, final, f"score -o .{ext} on a full disk")
    pcaps = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "traffic",
                         "nDPI", "tests", "cfgs", "default", "pcap")
    ds = os.path.join(td, "train.h5")
    p = run([ssmflow, "extract", "-q", "-o", ds, os.path.join(pcaps, "dns_doh.pcap")])
    if p.returncode != 0:
        fail(f"extract for training: {p.stderr.strip()}")
    model = os.path.join(td, "m.ssmf")
    p = run([ssmflow, "train", "-q", "--epochs", "1", "-o", model, ds],
            preexec_fn=limit_fsize(64 * 1024))
    if p.returncode != EXIT_OUTPUT or os.path.exists(model):
        fail(f"train on a full disk: exit {p.returncode} (expected {EXIT_OUTPUT}), model "
             f"{'written' if os.path.exists(model) else 'absent'}: {p.stderr.strip()[-600:]}")
    if [x for x in os.listdir(td) if ".tmp" in x]:
        fail(f"train on a full disk left a temporary: {os.listdir(td)}")
    print("full disk under score and train: exit 4, nothing under the final names")


def case_hostile_hdf5(ssmflow, td):
    """Datasets on which HDF5 itself loops forever: a clear error and exit 2 once the
    metadata probe times out, for info, score and train alike."""
    here = os.path.dirname(os.path.abspath(__file__))
    hang = os.path.join(here, "..", "fuzz", "hdf5-known", "hang-H5HG_read-vlen-attribute.h5")
    env = dict(os.environ, SSMF_HDF5_TIMEOUT="2")
    for cmd in (["info", hang], ["score", "-q", hang], ["train", "-q", "-o",
                                                        os.path.join(td, "m.ssmf"), hang]):
        t0 = time.monotonic()
        p = run([ssmflow, *cmd], env=env)
        took = time.monotonic() - t0
        errs = errors(p)
        if p.returncode != EXIT_INPUT or len(errs) != 1 or "HDF5" not in errs[0] or took > 30:
            fail(f"{cmd[0]} on a hostile HDF5 file: exit {p.returncode} after {took:.1f} s: "
                 f"{p.stderr.strip()[-500:]}")
    print("hostile HDF5: info, score and train give up with exit 2")


def case_unreadable(ssmflow, td):
    """Inputs that cannot be read: exit 2, one error naming the input, no output."""
    final = os.path.join(td, "u.h5")
    d = os.path.join(td, "a-directory")
    os.mkdir(d)
    p = run([ssmflow, "extract", "-q", "-o", final, d])
    expect_clean_failure(p, EXIT_INPUT, td, final, "directory as input", d)

    notdir = os.path.join(td, "plain-file")
    open(notdir, "w").close()
    p = run([ssmflow, "extract", "-q", "-o", final, os.path.join(notdir, "x.pcap")])
    expect_clean_failure(p, EXIT_INPUT, td, final, "path through a file", "x.pcap")

    empty = os.path.join(td, "empty.pcap")
    open(empty, "w").close()
    p = run([ssmflow, "extract", "-q", "-o", final, empty])
    expect_clean_failure(p, EXIT_INPUT, td, final, "empty file", empty)

    # A FIFO whose writer opens it and closes it without writing.
    fifo = os.path.join(td, "fifo")
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: open(fifo, "wb").close())
    writer.start()
    p = run([ssmflow, "extract", "-q", "-o", final, fifo])
    writer.join(timeout=10)
    expect_clean_failure(p, EXIT_INPUT, td, final, "FIFO closed without data", fifo)

    # Permissions: root reads anything, so only checked when not root.
    if os.geteuid() != 0:
        locked = os.path.join(td, "locked.pcap")
        with open(locked, "wb") as f:
            f.write(pcapgen.header())
        os.chmod(locked, 0)
        p = run([ssmflow, "extract", "-q", "-o", final, locked])
        expect_clean_failure(p, EXIT_INPUT, td, final, "chmod 000 input", "Permission denied")
    else:
        print("unreadable: running as root, chmod 000 not checked (root bypasses it)")
    print("unreadable inputs: exit 2, one error naming the input, no output")


def case_output(ssmflow, td):
    """Output paths that cannot be written: exit 4 before reading anything."""
    cap = os.path.join(td, "small.pcap")
    pcapgen.write_many_udp_flows(cap, 100)
    missing = os.path.join(td, "no", "such", "dir", "x.h5")
    p = run([ssmflow, "extract", "-q", "-o", missing, cap])
    expect_clean_failure(p, EXIT_OUTPUT, td, "x.h5", "missing output directory", "no/such/dir")

    plain = os.path.join(td, "plain")
    open(plain, "w").close()
    p = run([ssmflow, "extract", "-q", "-o", os.path.join(plain, "x.h5"), cap])
    expect_clean_failure(p, EXIT_OUTPUT, td, "x.h5", "output below a regular file")

    outdir = os.path.join(td, "existing-dir")
    os.mkdir(outdir)
    p = run([ssmflow, "extract", "-q", "-o", outdir, cap])
    if p.returncode != EXIT_OUTPUT or not os.path.isdir(outdir) or len(errors(p)) != 1:
        fail(f"output is a directory: exit {p.returncode}: {p.stderr.strip()}")
    if [x for x in os.listdir(td) if x.startswith("existing-dir.tmp")]:
        fail("output is a directory: temporary left beside it")

    if os.geteuid() != 0:
        ro = os.path.join(td, "read-only")
        os.mkdir(ro, 0o555)
        p = run([ssmflow, "extract", "-q", "-o", os.path.join(ro, "x.h5"), cap])
        expect_clean_failure(p, EXIT_OUTPUT, ro, "x.h5", "read-only directory")
    print("output paths: exit 4, one error line, nothing written")


def wait_then_signal(proc, sig, seconds):
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < seconds:
        time.sleep(0.05)
    if proc.poll() is not None:
        return False
    proc.send_signal(sig)
    return True


def case_score_signals(ssmflow, td):
    """SIGINT/SIGTERM while scoring a large capture: exit 128+sig, a one-line message,
    nothing under the final name, no temporary left."""
    big = os.path.join(td, "big.pcap")
    pcapgen.write_many_udp_flows(big, 1500000)
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        final = os.path.join(td, f"scores-{int(sig)}.jsonl")
        proc = subprocess.Popen([ssmflow, "score", "-q", "-o", final, big],
                                stderr=subprocess.PIPE, text=True)
        if not wait_then_signal(proc, sig, 1.0):
            fail(f"score finished before signal {sig}: input too small")
        _, err = proc.communicate(timeout=60)
        if proc.returncode != code or "interrupted" not in err:
            fail(f"score, signal {sig}: exit {proc.returncode} (expected {code}): {err.strip()}")
        if leftovers(td, final):
            fail(f"score, signal {sig}: left {leftovers(td, final)}")
    print("score signals: exit 130/143, nothing under the final name")


def case_train_signals(ssmflow, td):
    """SIGTERM during training: exit 143, no model under the final name, a valid
    checkpoint that --resume continues from."""
    pcaps = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "traffic",
                         "nDPI", "tests", "cfgs", "default", "pcap")
    ds = os.path.join(td, "train.h5")
    p = run([ssmflow, "extract", "-q", "-o", ds, os.path.join(pcaps, "1kxun.pcap")])
    if p.returncode != 0:
        fail(f"extract for training: {p.stderr.strip()}")
    model = os.path.join(td, "m.ssmf")
    proc = subprocess.Popen([ssmflow, "train", "-q", "--epochs", "500", "--patience", "0",
                             "--threads", "1", "-o", model, ds],
                            stderr=subprocess.PIPE, text=True)
    if not wait_then_signal(proc, signal.SIGTERM, 4.0):
        fail("train finished before the signal")
    _, err = proc.communicate(timeout=120)
    if proc.returncode != 143:
        fail(f"train, SIGTERM: exit {proc.returncode}, expected 143: {err.strip()}")
    if os.path.exists(model) or [x for x in os.listdir(td) if ".tmp" in x]:
        fail(f"train, SIGTERM: a model or temporary was left: {os.listdir(td)}")
    ckpt = model + ".ckpt"
    if not os.path.exists(ckpt):
        fail("train, SIGTERM: no checkpoint to resume from")
    # The checkpoint is complete and valid: a model loader takes it, and resuming starts
    # (stopped again by a signal: the run would otherwise go on for its 500 epochs).
    p = run([ssmflow, "score", "-q", "-m", ckpt, "-o", os.path.join(td, "s.jsonl"), ds])
    if p.returncode != 0:
        fail(f"the checkpoint left by SIGTERM does not load: {p.stderr.strip()}")
    proc = subprocess.Popen([ssmflow, "train", "-q", "--resume", ckpt, "-o", model, ds],
                            stderr=subprocess.PIPE, text=True)
    wait_then_signal(proc, signal.SIGINT, 3.0)
    _, err = proc.communicate(timeout=120)
    if proc.returncode not in (0, 130):
        fail(f"train --resume after SIGTERM: exit {proc.returncode}: {err.strip()}")
    print("train SIGTERM: exit 143, checkpoint kept and valid, resume runs")


CASES = {"signals": case_signals, "score_signals": case_score_signals,
         "disk_full_score_train": case_disk_full_score_train,
         "hostile_hdf5": case_hostile_hdf5,
         "train_signals": case_train_signals, "disk_full": case_disk_full, "unreadable": case_unreadable,
         "output": case_output}


def main():
    ssmflow, case = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="ssmflow-faults-") as td:
        CASES[case](ssmflow, td)


if __name__ == "__main__":
    main()
