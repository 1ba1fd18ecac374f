#!/usr/bin/python3
"""test_dist.py - `mpirun -np N ssmflow train` against one process on the same data.

Usage: test_dist.py SSMFLOW DATA_DIR WORK_DIR CHECK MPIEXEC
CHECK is one of the functions named check_* below; MPIEXEC is the build's mpirun, or "none"
for a build without MPI (the check is skipped, exit 77). The oracle is the single-process
run of the same command: N processes must give its per-step losses, validation losses,
parameters and optimizer moments bit for bit, for both levels of the model.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt  # noqa: E402
import test_train as tt  # noqa: E402  (reads SSMFLOW, DATA_DIR, WORK_DIR from argv)

MPIEXEC = sys.argv[5]
SKIP = 77
# root in CI and in containers; more processes than cores on a 2-core machine
MPI_ENV = dict(tt.ENV, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
# 32 flows a batch: 16 gradient groups, so 2 processes take 8 each and 3 take 5, 5 and 6
ARGS = tt.SMALL + ["--batch-size", "32", "--warmup", "5", "--threads", "1", "-q"]


def mpirun(n, args, expect=0, env=None):
    cmd = [MPIEXEC, "-np", str(n), "--oversubscribe", tt.SSMFLOW] + args
    p = subprocess.run(cmd, cwd=tt.WORK, env=dict(MPI_ENV, **(env or {})), capture_output=True,
                       text=True, timeout=300)
    if expect is not None and p.returncode != expect:
        tt.fail(f"{' '.join(cmd)}: exit {p.returncode}, expected {expect}\n{p.stderr}")
    return p


def host_params(model):
    """The host level's parameters: the model file inside the HOST section."""
    inner = os.path.join(tt.WORK, os.path.basename(model) + ".host-level")
    with open(inner, "wb") as f:
        f.write(ckpt.sections(model)["HOST"])
    return ckpt.params(inner)


def same_run(ref, got, what):
    """Logs (both levels' step and epoch lines), models and final checkpoints identical."""
    la, lb = (os.path.join(tt.WORK, x + ".jsonl") for x in (ref, got))
    for level in ("packet", "host"):
        a = [o for o in tt.read_log(la, level) if o["event"] in ("step", "epoch")]
        b = [o for o in tt.read_log(lb, level) if o["event"] in ("step", "epoch")]
        for o in a + b:
            o.pop("packets_per_s", None)  # wall time
        if not a or a != b:
            diff = [x.get("step") for x, y in zip(a, b) if x != y]
            tt.fail(f"{what}: {level} level logs differ ({len(a)} vs {len(b)} lines, "
                    f"first steps differing {diff[:5]})")
    # the raw text of the losses: 17 digits, so equal text is equal bits
    if tt.raw_step_losses(la) != tt.raw_step_losses(lb):
        tt.fail(f"{what}: the losses' digits differ")
    ma, mb = (os.path.join(tt.WORK, x + ".ssmf") for x in (ref, got))
    if ckpt.params(ma) != ckpt.params(mb) or host_params(ma) != host_params(mb):
        tt.fail(f"{what}: the models' parameters differ")
    sa, sb = ckpt.sections(ma + ".ckpt"), ckpt.sections(mb + ".ckpt")
    for name in ("PARAMS", "OPTIM", "TSTATE", "BEST"):
        if sa[name] != sb[name]:
            tt.fail(f"{what}: final checkpoints differ in {name}")
    n = len([o for o in tt.read_log(la) if o["event"] == "step"])
    nh = len([o for o in tt.read_log(la, "host") if o["event"] == "step"])
    print(f"{what}: {n} packet-level and {nh} host-level steps, validation, parameters and "
          "moments identical")


def train_one_and_n(n, extra):
    ds = tt.datasets()
    args = ARGS + extra + ds
    tt.run(["train", "-o", "one.ssmf", "--log-json", "one.jsonl"] + args)
    p = mpirun(n, ["train", "-o", f"np{n}.ssmf", "--log-json", f"np{n}.jsonl"] + args)
    if p.stderr.strip():
        tt.fail(f"-q under mpirun still printed: {p.stderr!r}")
    meta = ckpt.meta(os.path.join(tt.WORK, f"np{n}.ssmf"))
    if meta.get("processes") != n:
        tt.fail(f"META records {meta.get('processes')} processes, not {n}")
    same_run("one", f"np{n}", f"1 vs {n} processes")


def check_np2():
    train_one_and_n(2, ["--epochs", "3"])


def check_np3():
    # more validation batches than processes, spread unevenly too
    train_one_and_n(3, ["--epochs", "2", "--val-fraction", "0.3"])


def check_supervised():
    """The supervised head: its loss is divided by the whole batch's labelled flows, on 3
    processes as on one (bit for bit), and on 2 emulated devices within the bound."""
    ds = tt.datasets()
    lab = tt.labelled(ds[2])
    args = ARGS + ["--epochs", "2", "--supervised"] + ds[:2] + [lab] + ds[3:]
    tt.run(["train", "-o", "one.ssmf", "--log-json", "one.jsonl"] + args)
    mpirun(3, ["train", "-o", "np3.ssmf", "--log-json", "np3.jsonl"] + args)
    sup = [o["loss_sup"] for o in tt.read_log(os.path.join(tt.WORK, "one.jsonl"))
           if o["event"] == "step"]
    if sum(s > 0 for s in sup) < len(sup) // 2:
        tt.fail(f"only {sum(s > 0 for s in sup)} of {len(sup)} steps had labelled flows")
    same_run("one", "np3", "supervised, 1 vs 3 processes")
    emu = args + ["--device", "cuda-emulated"]
    tt.run(["train", "-o", "emu1.ssmf", "--log-json", "emu1.jsonl"] + emu)
    mpirun(2, ["train", "-o", "emu2.ssmf", "--log-json", "emu2.jsonl"] + emu)
    close_losses("emu1", "emu2", "supervised, 1 vs 2 emulated devices")


def find_rank(job, rank):
    """The pid of the ssmflow process of `rank` of the job whose SSMF_TEST_JOB is job."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                exe = f.read().split(b"\0")[0]
        except OSError:
            continue
        if (os.path.basename(exe) == b"ssmflow"
                and env.get(b"OMPI_COMM_WORLD_RANK") == str(rank).encode()
                and env.get(b"SSMF_TEST_JOB") == job.encode()):
            return int(pid)
    return None


def check_rank_killed():
    """A rank killed mid-run ends the job with an error, leaves the last complete checkpoint,
    and that checkpoint resumes with another number of processes to the uninterrupted
    single-process run."""
    ds = tt.datasets()
    args = ARGS[:-1] + ["--host-level", "no", "--batch-size", "8", "--max-steps", "60",
                        "--checkpoint-every", "5"] + ds
    tt.run(["train", "-q", "-o", "a.ssmf", "--log-json", "a.jsonl"] + args)
    blog = os.path.join(tt.WORK, "b.jsonl")
    for p in (blog, os.path.join(tt.WORK, "b.ssmf"), os.path.join(tt.WORK, "b.ssmf.ckpt")):
        if os.path.exists(p):
            os.unlink(p)
    job = f"{os.getpid()}-{time.time()}"  # tells this job's processes from any other's
    proc = subprocess.Popen([MPIEXEC, "-np", "2", "--oversubscribe", tt.SSMFLOW, "train", "-o",
                             "b.ssmf", "--log-json", "b.jsonl"] + args, cwd=tt.WORK,
                            env=dict(MPI_ENV, SSMF_TEST_JOB=job), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    killed_after = None
    while proc.poll() is None:
        steps = tt.raw_step_losses(blog) if os.path.exists(blog) else {}
        if steps and max(steps) >= 28:
            pid = find_rank(job, 1)
            if pid is None:
                os.killpg(proc.pid, signal.SIGKILL)
                tt.fail("rank 1 not found among the job's processes")
            os.kill(pid, signal.SIGKILL)
            killed_after = max(steps)
            break
        time.sleep(0.002)
    out = proc.communicate(timeout=120)[0]
    if killed_after is None:
        tt.fail("the job finished before a rank could be killed")
    if proc.returncode == 0:
        tt.fail(f"the job with a killed rank exited 0:\n{out}")
    if "rank 1" not in out or "signal 9" not in out:
        tt.fail(f"the job's error does not name the killed rank and signal:\n{out}")
    if os.path.exists(os.path.join(tt.WORK, "b.ssmf")):
        tt.fail("the failed job left a model under the final name")
    st = ckpt.tstate(os.path.join(tt.WORK, "b.ssmf.ckpt"))
    print(f"rank 1 killed after step {killed_after}: exit {proc.returncode}; checkpoint at "
          f"step {st['step']}")
    if st["step"] % 5 or st["step"] > killed_after or st["done"]:
        tt.fail(f"unexpected checkpoint state {st}")
    # resumed by 3 processes: the uninterrupted single-process run's losses and model
    mpirun(3, ["train", "-o", "b.ssmf", "--log-json", "b.jsonl", "--resume", "b.ssmf.ckpt"]
           + args)
    a, b = tt.raw_step_losses(os.path.join(tt.WORK, "a.jsonl")), tt.raw_step_losses(blog)
    if sorted(a) != list(range(1, 61)) or a != b:
        tt.fail(f"per-step losses differ at steps {[s for s in a if a[s] != b.get(s)][:10]}")
    sa = ckpt.sections(os.path.join(tt.WORK, "a.ssmf.ckpt"))
    sb = ckpt.sections(os.path.join(tt.WORK, "b.ssmf.ckpt"))
    for name in ("PARAMS", "OPTIM", "TSTATE", "BEST"):
        if sa[name] != sb[name]:
            tt.fail(f"the resumed run's final checkpoint differs in {name}")
    print("resumed on 3 processes: 60 step losses, parameters and moments of one process")


def close_losses(ref, got, what):
    """Both levels' per-step losses and validation losses within the kernels' tolerance."""
    worst = 0.0
    for level in ("packet", "host"):
        a, b = (tt.read_log(os.path.join(tt.WORK, x + ".jsonl"), level) for x in (ref, got))
        a = [o for o in a if o["event"] in ("step", "epoch")]
        b = [o for o in b if o["event"] in ("step", "epoch")]
        if not a or [(o["event"], o["step"]) for o in a] != [(o["event"], o["step"]) for o in b]:
            tt.fail(f"{what}: the {level} level's steps differ")
        for x, y in zip(a, b):
            for k in ("loss", "loss_next", "val_loss"):
                if k in x:
                    d = tt.rel(x[k], y[k])
                    worst = max(worst, d)
                    if not d <= tt.LOSS_TOL:
                        tt.fail(f"{what}: {level} step {x['step']} {k} {x[k]!r} vs {y[k]!r}")
    print(f"{what}: losses within {worst:.2e} (bound {tt.LOSS_TOL:g})")


def check_cuda_emulated():
    """--device cuda through the kernels' host emulation: each process's device runs a share
    of the batch, the gradients are added in rank order. N devices give one device's losses
    up to float rounding (the per-process GEMMs add up in another order than one GEMM), and
    the same bits every run with the same N.

    The gradients go along the chain on the device (cuda/grad_ring.c, the code NCCL runs
    between GPUs, here over the emulation's transport; SSMF_CUDA_REDUCE=device makes a run
    without it fail rather than fall back), which must give the bits of the chain on the
    host (SSMF_CUDA_REDUCE=host: the path of a build without NCCL). On 3 processes a sum in
    another order, ((0 + g2) + g1) + g0 say, rounds otherwise: the two would differ."""
    ds = tt.datasets()
    args = ARGS + ["--epochs", "2", "--device", "cuda-emulated"] + ds
    device, host = {"SSMF_CUDA_REDUCE": "device"}, {"SSMF_CUDA_REDUCE": "host"}
    tt.run(["train", "-o", "one.ssmf", "--log-json", "one.jsonl"] + args)
    for n, name, env in ((2, "np2", device), (2, "np2b", device), (3, "np3", device),
                         (3, "np3host", host)):
        mpirun(n, ["train", "-o", f"{name}.ssmf", "--log-json", f"{name}.jsonl"] + args,
               env=env)
    close_losses("one", "np2", "1 vs 2 emulated devices")
    close_losses("one", "np3", "1 vs 3 emulated devices")
    same_run("np2", "np2b", "2 emulated devices, twice")
    same_run("np3host", "np3", "3 emulated devices, the chain on the device vs on the host")
    meta = ckpt.meta(os.path.join(tt.WORK, "np3.ssmf"))
    if meta["device"] != "cuda-emulated" or meta["processes"] != 3:
        tt.fail(f"META records device {meta['device']}, {meta['processes']} processes")


def check_refusals():
    """Errors every process meets alike are said once, by rank 0, with the exit status of
    one process: a dataset that cannot be read, a loss that diverges."""
    ds = tt.datasets()[:3]
    p = mpirun(3, ["train", "-o", "d.ssmf", "--lr", "1e30", "--host-level", "no"] + ARGS + ds,
               expect=None)
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("ssmflow:")]
    if p.returncode != 5 or len(lines) != 1 or "diverged" not in lines[0]:
        tt.fail(f"a diverging run on 3 processes: exit {p.returncode}, {p.stderr!r}")
    print(f"exit 5, said once: {lines[0]}")
    p = mpirun(2, ["train", "-o", "c.ssmf"] + ARGS + ["missing.h5"], expect=None)
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("ssmflow:")]
    if p.returncode != 2 or len(lines) != 1 or "missing.h5" not in lines[0]:
        tt.fail(f"a missing dataset on 2 processes: exit {p.returncode}, {p.stderr!r}")
    print(f"exit 2, said once: {lines[0]}")


if __name__ == "__main__":
    if MPIEXEC == "none":
        print("SKIP: this build has no MPI (install libopenmpi-dev and openmpi-bin, rebuild)")
        sys.exit(SKIP)
    v = subprocess.run([MPIEXEC, "--version"], capture_output=True, text=True)
    if "open-mpi.org" not in v.stdout + v.stderr:  # "mpiexec (OpenRTE) 4.1.4 ... open-mpi.org"
        print(f"SKIP: {MPIEXEC} is not Open MPI's mpirun (the checks use its options)")
        sys.exit(SKIP)
    os.makedirs(tt.WORK, exist_ok=True)
    globals()["check_" + sys.argv[4]]()
    print("ok")
