#!/usr/bin/python3
"""test_train.py - `ssmflow train` end to end on real traffic.

Usage: test_train.py SSMFLOW DATA_DIR WORK_DIR CHECK
CHECK is one of the functions named check_* below. Datasets are made with the real
`ssmflow extract` from nDPI captures in DATA_DIR; labels for --supervised are set with h5py.
"""
import csv
import json
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt  # noqa: E402

SSMFLOW, DATA, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
PCAPS = os.path.join(DATA, "traffic/nDPI/tests/cfgs/default/pcap")
CAPTURES = ["443-firefox.pcap", "dns_doh.pcap", "quic.pcap", "youtube_quic.pcap", "1kxun.pcap"]
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
# A small model keeps every check well under the time budget; the default size is used by
# the loss check and the benchmark.
SMALL = ["--d-model", "32", "--d-state", "8", "--headdim", "8", "--n-layer", "1"]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(args, cwd=None, expect=0):
    p = subprocess.run([SSMFLOW] + args, cwd=cwd or WORK, env=ENV, capture_output=True,
                       text=True, timeout=300)
    if expect is not None and p.returncode != expect:
        fail(f"ssmflow {' '.join(args)}: exit {p.returncode}, expected {expect}\n{p.stderr}")
    return p


def datasets(names=CAPTURES):
    """One dataset per capture (extract once per work dir)."""
    out = []
    for n in names:
        h5 = os.path.join(WORK, n + ".h5")
        if not os.path.exists(h5):
            run(["extract", "-q", "-o", h5, os.path.join(PCAPS, n)])
        out.append(h5)
    return out


def read_log(path, level="packet"):
    """The log's lines of one level: the packet level's carry no "level" key, the host
    level's say "level": "host"."""
    with open(path) as f:
        return [o for o in map(json.loads, f) if o.get("level", "packet") == level]


def raw_step_losses(path):
    """step -> loss exactly as written (17 digits); the last line for a step wins, as a
    resumed run repeats the steps after its checkpoint."""
    out = {}
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            if o["event"] == "step" and "level" not in o:
                text = line.split('"loss":', 1)[1].split(",", 1)[0]
                out[o["step"]] = text
    return out


def check_profile(raw, ds):
    """The activity profile (ssmflow-formats(5)) against the mean and spread of the
    training events' counts as the reference consumer builds the events."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "python"))
    from ssmflow_consumer import RECORD_DTYPE, host_events
    version, n, events = struct.unpack_from("<IIQ", raw)
    counts = 4  # rate_events, rate_service, rate_new_peers, rate_returns
    mean = struct.unpack_from(f"<{counts}d", raw, 16)
    sd = struct.unpack_from(f"<{counts}d", raw, 16 + 8 * counts)
    xs = []
    for path in ds:
        with h5py.File(path) as f:
            flows = f["flows"][:]
            pk = f["packets"]
            first = np.array([pk[int(o)] for o in flows["packet_offset"]]).astype(RECORD_DTYPE)
        for evs in host_events(flows, first)[1]:
            xs += [np.log1p(np.array(e["rates"]) / 16.0) for e in evs]
    xs = np.array(xs)
    want_m, want_sd = xs.mean(0), np.maximum(xs.std(0), 0.25)
    print(f"activity profile: {events} events, mean {np.round(mean, 4)}, sd {np.round(sd, 4)}")
    if (len(raw), version, n, events) != (16 + 16 * counts, 1, counts, len(xs)) or \
            np.max(np.abs(np.array(mean) - want_m)) > 1e-9 or \
            np.max(np.abs(np.array(sd) - want_sd)) > 1e-9:
        fail(f"PROFILE {version} {n} {events} {mean} {sd}: want {len(xs)} events, "
             f"{want_m} {want_sd}")


def check_loss_falls():
    ds = datasets()
    run(["train", "-q", "-o", "m.ssmf", "--epochs", "6", "--warmup", "20", "--threads", "2",
         "--log-json", "loss.jsonl"] + ds)
    log = read_log(os.path.join(WORK, "loss.jsonl"))
    steps = [o for o in log if o["event"] == "step"]
    epochs = [o for o in log if o["event"] == "epoch"]
    first = np.mean([o["loss"] for o in steps[:3]])
    last_train = epochs[-1]["train_loss"]
    print(f"first steps {first:.3f}, epoch train losses",
          [round(e["train_loss"], 3) for e in epochs], "val",
          [round(e["val_loss"], 3) for e in epochs])
    if not last_train < 0.75 * first:
        fail(f"training loss did not fall: {first} -> {last_train}")
    if not epochs[-1]["best_val_loss"] < 0.9 * epochs[0]["val_loss"]:
        fail("validation loss did not fall")
    if log[-1]["event"] != "done" or not all(math.isfinite(o["loss"]) for o in steps):
        fail("log incomplete")
    m = ckpt.meta(os.path.join(WORK, "m.ssmf"))
    secs = ckpt.sections(os.path.join(WORK, "m.ssmf"))
    if set(secs) != {"CONFIG", "PARAMS", "META", "HOST", "PROFILE", "EVIDENCE"}:
        fail("the model file should carry CONFIG, PARAMS, META, HOST, PROFILE and EVIDENCE "
             "only")
    check_profile(secs["PROFILE"], ds)
    # the evidence baseline's mean surprise per packet over the validation flows is the
    # validation loss of the epoch whose parameters the model keeps (another code path:
    # the training backend's forward over validation batches, not score's inference)
    version, _, ev_flows, ev_mean, ev_sd = struct.unpack("<IIQdd", secs["EVIDENCE"])
    best = [e for e in epochs if e["epoch"] == epochs[-1]["best_epoch"]][0]
    print(f"evidence: {ev_flows} flows, mean {ev_mean:.6f} (best validation loss "
          f"{best['val_loss_next']:.6f}), sd {ev_sd:.4f}")
    if (len(secs["EVIDENCE"]), version) != (32, 1) or ev_flows < 1 or not ev_sd > 0 or \
            abs(ev_mean - best["val_loss_next"]) > 1e-4 * best["val_loss_next"]:
        fail(f"EVIDENCE section: version {version}, {ev_flows} flows, mean {ev_mean}, "
             f"sd {ev_sd}; the best validation loss was {best['val_loss_next']}")
    # the host level: trained on the same datasets' host sequences, its loss falls too
    hlog = read_log(os.path.join(WORK, "loss.jsonl"), "host")
    hep = [o for o in hlog if o["event"] == "epoch"]
    hstart = [o for o in hlog if o["event"] == "start"]
    print("host level:", hstart[0]["train_flows"] if hstart else 0, "sequences, epoch val",
          [round(e["val_loss"], 3) for e in hep])
    if not hep or not hep[-1]["best_val_loss"] < hep[0]["val_loss"] or \
            [o["event"] for o in hlog][-1] != "done":
        fail("the host level did not train, or its validation loss did not fall")
    hist = m["training"]["history"]
    if [h["val_loss"] for h in hist] != [e["val_loss"] for e in epochs]:
        fail("history in META differs from the log")
    if m["hyperparameters"]["epochs"] != 6 or m["created"] != "2023-11-14T22:13:20Z":
        fail("hyper-parameters or date missing from META")
    names = [i["name"] for d in m["data"]["train"]["datasets"] for i in d["inputs"]]
    if names != CAPTURES or any(len(i["sha256"]) != 64 for d in m["data"]["train"]["datasets"]
                                for i in d["inputs"]):
        fail(f"provenance lists {names}")


def check_resume_after_sigkill():
    ds = datasets()
    args = SMALL + ["--max-steps", "60", "--checkpoint-every", "5", "--warmup", "10",
                    "--batch-size", "8", "--threads", "1", "-q"] + ds
    run(["train", "-o", "a.ssmf", "--log-json", "a.jsonl"] + args)
    blog = os.path.join(WORK, "b.jsonl")
    for p in (blog, os.path.join(WORK, "b.ssmf.ckpt")):
        if os.path.exists(p):
            os.unlink(p)
    proc = subprocess.Popen([SSMFLOW, "train", "-o", "b.ssmf", "--log-json", "b.jsonl"] + args,
                            cwd=WORK, env=ENV, stderr=subprocess.DEVNULL)
    killed_after = None
    while proc.poll() is None:
        steps = raw_step_losses(blog) if os.path.exists(blog) else {}
        if steps and max(steps) >= 28:
            proc.send_signal(signal.SIGKILL)
            killed_after = max(steps)
            break
        time.sleep(0.002)
    proc.wait()
    if killed_after is None:
        fail("the run finished before it could be killed")
    st = ckpt.tstate(os.path.join(WORK, "b.ssmf.ckpt"))
    print(f"killed after step {killed_after}; checkpoint at step {st['step']}")
    # killed in epoch 2 (steps 23..44): the checkpoint is in the middle of an epoch, so the
    # data order position and the epoch's running loss must be restored too
    if st["step"] % 5 or not st["batch"] or st["step"] > killed_after or st["done"]:
        fail(f"unexpected checkpoint state {st}")
    run(["train", "-o", "b.ssmf", "--log-json", "b.jsonl", "--resume", "b.ssmf.ckpt"] + args)
    resumed = [o for o in read_log(blog) if o["event"] == "start"][-1]
    if resumed["first_step"] != st["step"] + 1 or not resumed["resumed"]:
        fail(f"resumed at {resumed}")
    a, b = raw_step_losses(os.path.join(WORK, "a.jsonl")), raw_step_losses(blog)
    if sorted(a) != list(range(1, 61)) or a != b:
        diff = [s for s in a if a[s] != b.get(s)]
        fail(f"per-step losses differ at steps {diff[:10]}")
    ea = [o for o in read_log(os.path.join(WORK, "a.jsonl")) if o["event"] == "epoch"]
    eb = {o["epoch"]: o for o in read_log(blog) if o["event"] == "epoch"}
    if any(eb.get(e["epoch"]) != e for e in ea):
        fail("per-epoch losses differ")
    sa = ckpt.sections(os.path.join(WORK, "a.ssmf.ckpt"))
    sb = ckpt.sections(os.path.join(WORK, "b.ssmf.ckpt"))
    for name in ("PARAMS", "OPTIM", "TSTATE", "BEST"):
        if sa[name] != sb[name]:
            fail(f"final checkpoints differ in {name}")
    if ckpt.params(os.path.join(WORK, "a.ssmf")) != ckpt.params(os.path.join(WORK, "b.ssmf")):
        fail("final models differ")
    print("60 step losses, epoch losses, parameters and moments identical")


def check_deterministic():
    ds = datasets(CAPTURES[:3])
    base = SMALL + ["--epochs", "2", "--batch-size", "8", "-q", "-o", "m.ssmf"]
    outs = []
    for d, extra in (("r1", ["--threads", "1"]), ("r2", ["--threads", "1"]),
                     ("r3", ["--threads", "2"]), ("r4", ["--threads", "1", "--seed", "7"])):
        wd = os.path.join(WORK, d)
        shutil.rmtree(wd, ignore_errors=True)
        os.makedirs(wd)
        for h5 in ds:
            os.symlink(h5, os.path.join(wd, os.path.basename(h5)))
        run(["train"] + base + extra + [os.path.basename(h) for h in ds], cwd=wd)
        with open(os.path.join(wd, "m.ssmf"), "rb") as f:
            outs.append((f.read(), open(os.path.join(wd, "m.ssmf.ckpt"), "rb").read()))
    if outs[0] != outs[1]:
        fail("two runs with the same seed and threads wrote different files")
    p = [ckpt.params(os.path.join(WORK, d, "m.ssmf")) for d in ("r1", "r3", "r4")]
    if p[0] != p[1]:
        fail("1 and 2 threads gave different parameters")
    if p[0] == p[2]:
        fail("a different seed gave the same parameters")
    print("same seed: identical model and checkpoint files; 1 vs 2 threads: same parameters")


def expect_error(args, code, must_contain):
    p = run(["train"] + args, expect=code)
    lines = p.stderr.strip().splitlines()
    if not lines or must_contain not in lines[0] or not lines[0].startswith("ssmflow: error:"):
        fail(f"{args}: stderr was {p.stderr!r}, expected one error line with {must_contain!r}")
    if code == 2 and len(lines) != 1:
        fail(f"{args}: more than one line: {p.stderr!r}")
    print(f"exit {code}: {lines[0]}")


def check_bad_input():
    ds = datasets(CAPTURES[:1])
    for stale in ("x.ssmf", "x.ssmf.ckpt"):  # from an earlier run in this work directory
        if os.path.exists(os.path.join(WORK, stale)):
            os.remove(os.path.join(WORK, stale))
    missing = os.path.join(WORK, "no-such.h5")
    expect_error(["-o", "x.ssmf", missing], 2, "no-such.h5")
    notds = os.path.join(PCAPS, CAPTURES[0])
    expect_error(["-o", "x.ssmf", ds[0], notds], 2, CAPTURES[0])
    empty = os.path.join(WORK, "empty.h5")
    run(["extract", "-q", "--filter", "port 1", "-o", empty, os.path.join(PCAPS, CAPTURES[0])])
    expect_error(["-o", "x.ssmf", ds[0], empty], 2, "empty.h5")
    single = os.path.join(WORK, "single.h5")
    run(["extract", "-q", "--max-packets", "1", "-o", single, os.path.join(PCAPS, CAPTURES[0])])
    expect_error(["-o", "x.ssmf", single], 2, "single.h5")
    expect_error(["-o", "x.ssmf", "--device", "tpu", ds[0]], 1, "tpu")
    expect_error([ds[0]], 1, "-o")
    expect_error(["-o", "x.ssmf", "--lr", "abc", ds[0]], 1, "--lr")
    expect_error(["-o", "x.ssmf", "--resume", ds[0], ds[0]], 2, ds[0])
    if os.path.exists(os.path.join(WORK, "x.ssmf")):
        fail("a failed run left a model behind")


def check_nan_detected():
    ds = datasets()
    p = run(["train", "-o", "nan.ssmf", "--lr", "1e30", "--warmup", "0", "--checkpoint-every",
             "1", "--batch-size", "4", "-q"] + SMALL + ds, expect=5)
    err = p.stderr.strip()
    print(err)
    if "diverged at step" not in err or len(err.splitlines()) != 1:
        fail(f"expected one line naming the step, got {err!r}")
    step = int(err.split("diverged at step ")[1].split(":")[0])
    st = ckpt.tstate(os.path.join(WORK, "nan.ssmf.ckpt"))
    if st["step"] != step - 1:
        fail(f"the last checkpoint is at step {st['step']}, the bad step was {step}")
    params = np.frombuffer(ckpt.params(os.path.join(WORK, "nan.ssmf.ckpt")), dtype="<f4")
    if not np.all(np.isfinite(params)) or os.path.exists(os.path.join(WORK, "nan.ssmf")):
        fail("the kept checkpoint is not finite, or a model was written")


def flows_of(path):
    with h5py.File(path, "r") as f:
        fl = f["flows"][:]
    return fl


def check_val_split():
    ds = datasets()
    max_len = 64
    run(["train", "-q", "-o", "split.ssmf", "--max-steps", "1", "--max-len", str(max_len)]
        + SMALL + ds)
    m = ckpt.meta(os.path.join(WORK, "split.ssmf"))["data"]
    rows = []
    for di, p in enumerate(ds):
        for r, f in enumerate(flows_of(p)):
            if f["packet_count"] >= 2:
                rows.append((int(f["first_ts_ns"]), di, r, min(int(f["packet_count"]), max_len)))
    rows.sort()
    n_val = int(0.1 * len(rows))
    train, val = rows[:len(rows) - n_val], rows[len(rows) - n_val:]
    want = {"train": (len(train), sum(r[3] for r in train)),
            "val": (len(val), sum(r[3] for r in val))}
    got = {k: (m[k]["flows"], m[k]["packets"]) for k in ("train", "val")}
    if got != want or int(m["val_boundary_ns"]) != val[0][0]:
        fail(f"time split: got {got}, boundary {m['val_boundary_ns']}; want {want}, "
             f"{val[0][0]}")
    if max(r[0] for r in train) > min(r[0] for r in val):
        fail("a training flow starts after a validation flow")
    print(f"time split: {got} (every flow whole, packets match h5py)")

    run(["train", "-q", "-o", "split2.ssmf", "--max-steps", "1", "--val", ds[-1]] + SMALL
        + ds[:-1])
    m = ckpt.meta(os.path.join(WORK, "split2.ssmf"))["data"]

    def whole(paths):
        fl = np.concatenate([flows_of(p) for p in paths])
        fl = fl[fl["packet_count"] >= 2]
        return (len(fl), int(np.minimum(fl["packet_count"], 256).sum()))
    got = {k: (m[k]["flows"], m[k]["packets"]) for k in ("train", "val")}
    want = {"train": whole(ds[:-1]), "val": whole(ds[-1:])}
    if m["split"] != "dataset" or got != want:
        fail(f"--val: got {got}, want {want}")
    print(f"--val split: {got}")


def labelled(src):
    """A copy of dataset src whose UDP flows are labelled attack, the others benign (a rule an
    MLP can learn from the packets)."""
    lab = os.path.join(WORK, "labelled.h5")
    shutil.copy(src, lab)
    with h5py.File(lab, "r+") as f:
        fl = f["flows"][:]
        fl["label"] = np.where(fl["protocol"] == 17, 1, 0)
        f["flows"][:] = fl
        f.create_dataset("label_names", data=np.array([b"benign", b"attack"], dtype=object),
                         dtype=h5py.string_dtype())
    return lab


def check_supervised():
    ds = datasets(CAPTURES[:3])
    lab = labelled(ds[2])
    p = run(["train", "-o", "sup.ssmf", "--supervised", "--epochs", "4", "--warmup", "10",
             "--log-json", "sup.jsonl"] + SMALL + [lab])
    log = read_log(os.path.join(WORK, "sup.jsonl"))
    sup = [o["loss_sup"] for o in log if o["event"] == "step"]
    start = [o for o in log if o["event"] == "start"][0]
    print(f"supervised BCE {np.mean(sup[:3]):.3f} -> {np.mean(sup[-3:]):.3f}")
    if not (all(s > 0 for s in sup) and np.mean(sup[-3:]) < np.mean(sup[:3])):
        fail("the supervised loss is absent or did not fall")
    m = ckpt.meta(os.path.join(WORK, "sup.ssmf"))
    if not m["hyperparameters"]["supervised"] or m["data"]["train"]["labelled_flows"] < 1:
        fail(f"META does not record the supervised run: {m['data']['train']}, {start}")
    # one validation flow fits no evidence baseline: the model carries none and says so
    secs = ckpt.sections(os.path.join(WORK, "sup.ssmf"))
    if "EVIDENCE" in secs or "no evidence baseline" not in p.stderr:
        fail(f"one validation flow: sections {sorted(secs)}, stderr {p.stderr[-300:]!r}")
    score = run(["score", "-m", "sup.ssmf", "-q", "--format", "csv", "-o", "sup.csv", lab])
    with open(os.path.join(WORK, "sup.csv")) as f:
        ev = [r["evidence"] for r in csv.DictReader(f)]
    if not ev or any(float(x) != 0 for x in ev):
        fail(f"a model without a baseline scores an evidence term: {ev[:5]}")
    del p, score



# The benign label names, any case (man/ssmflow-train.1 --supervised, ssmflow-score.1
# EVALUATION); every other name is an attack.
BENIGN_NAMES = {"benign", "normal", "background", "legitimate"}


def check_benign_names():
    """The trainer's supervised target and score's ROC treat a flow as benign by the same
    names: a dataset whose flows carry benign names in several spellings (and near misses)
    trains exactly like one that names them only "benign"/"attack", and score's ROC-AUC on
    it equals scikit-learn's with the documented benign set."""
    from sklearn.metrics import roc_auc_score
    src = datasets(CAPTURES[4:5])[0]  # 197 flows
    names = ["Legitimate", "attack", "NORMAL", "background", "dos", "BENIGN",
             "legitimate-traffic", "Normal "]
    mixed, plain = (os.path.join(WORK, n) for n in ("names-mixed.h5", "names-plain.h5"))
    for path in (mixed, plain):
        shutil.copy(src, path)
    with h5py.File(mixed, "r+") as f:
        fl = f["flows"][:]
        lab = np.arange(len(fl)) % len(names)
        lab[::7] = -1  # some flows unlabelled
        fl["label"] = lab
        f["flows"][:] = fl
        f.create_dataset("label_names", data=np.array([n.encode() for n in names], dtype=object),
                         dtype=h5py.string_dtype())
    attack = np.array([n.lower() not in BENIGN_NAMES for n in names])
    with h5py.File(plain, "r+") as f:
        fl = f["flows"][:]
        fl["label"] = np.where(lab < 0, -1, attack[lab].astype(int))
        f["flows"][:] = fl
        f.create_dataset("label_names", data=np.array([b"benign", b"attack"], dtype=object),
                         dtype=h5py.string_dtype())
    for path in (mixed, plain):
        run(["train", "-q", "-o", path + ".ssmf", "--supervised", "--epochs", "2", "--warmup",
             "5", "--threads", "1", "--log-json", path + ".jsonl"] + SMALL + [path])
    sup = [[o["loss_sup"] for o in read_log(p + ".jsonl") if o["event"] == "step"]
           for p in (mixed, plain)]
    if not sup[0] or sup[0] != sup[1]:
        fail(f"benign names: supervised losses differ from the benign/attack dataset's: "
             f"{sup[0][:3]} vs {sup[1][:3]}")
    if ckpt.params(mixed + ".ssmf") != ckpt.params(plain + ".ssmf"):
        fail("benign names: the supervised models differ from the benign/attack dataset's")
    for path in (mixed, plain):
        out = path + ".scores.h5"
        run(["score", "-q", "-m", mixed + ".ssmf", "-o", out, path])
        with h5py.File(out) as f:
            fl, sc, npk = f["flows"][:], f["score"][:], f["packets_scored"][:]
            got = float(f.attrs["roc_auc"])
            out_names = [n.decode() for n in f["label_names"][:]]
        keep = fl["label"] >= 0  # every labelled flow (the host level scores one-packet flows)
        y = [out_names[x].lower() not in BENIGN_NAMES for x in fl["label"][keep]]
        want = roc_auc_score(y, sc[keep])
        if abs(got - want) > 1e-9:
            fail(f"{os.path.basename(path)}: score's ROC-AUC {got} vs {want} with the "
                 f"documented benign names")
        print(f"{os.path.basename(path)}: {int(keep.sum())} labelled flows, "
              f"{sum(y)} attacks, ROC-AUC {got:.6f}")
    print(f"benign names: {len(sup[0])} identical supervised steps")

# --device cuda-emulated runs the CUDA kernels' code on the CPU (cuda/cx.h), through the same
# engine as --device cuda. Its per-step losses equal the CPU engine's up to float rounding
# (summation order, the optimizer's division by the bias corrections): measured <= 1e-7
# relative over 55 steps of the default model, so 1e-5 is a 100x margin. A real GPU adds
# FMA contraction and CUDA's libm (docs/cuda.md): 1e-3 there.
LOSS_TOL, GPU_LOSS_TOL = 1e-5, 1e-3


def step_log(path):
    """step -> the last step event for it (a resumed run repeats steps)."""
    return {o["step"]: o for o in read_log(path) if o["event"] == "step"}


def rel(a, b):
    return abs(a - b) / max(abs(a), 1e-30)


def compare_runs(ref, got, tol, what, steps=None):
    """Per-step losses and gradient norms and per-epoch validation losses within tol."""
    a, b = step_log(os.path.join(WORK, ref)), step_log(os.path.join(WORK, got))
    steps = sorted(a) if steps is None else steps
    if any(s not in b for s in steps):
        fail(f"{what}: steps missing: {[s for s in steps if s not in b][:5]}")
    worst = 0.0
    for s in steps:
        for k in ("loss", "loss_next", "loss_sup", "grad_norm"):
            d = rel(a[s][k], b[s][k])
            worst = max(worst, d) if k != "grad_norm" else worst
            if not d <= (tol if k != "grad_norm" else 10 * tol):
                fail(f"{what}: step {s} {k} {a[s][k]!r} vs {b[s][k]!r} (rel {d:.2e})")
    ea = {o["epoch"]: o for o in read_log(os.path.join(WORK, ref)) if o["event"] == "epoch"}
    eb = {o["epoch"]: o for o in read_log(os.path.join(WORK, got)) if o["event"] == "epoch"}
    for e in ea:
        if e in eb and not rel(ea[e]["val_loss"], eb[e]["val_loss"]) <= tol:
            fail(f"{what}: epoch {e} validation loss {ea[e]['val_loss']} vs {eb[e]['val_loss']}")
    print(f"{what}: {len(steps)} steps, largest relative loss difference {worst:.2e}")
    return worst


def scores(model, ds):
    out = os.path.join(WORK, os.path.basename(model) + ".csv")
    run(["score", "-q", "-m", model, "-o", out, ds])
    with open(out) as f:
        rows = [line.rstrip("\n").split(",") for line in f]
    col = rows[0].index("score")
    return {r[0]: float(r[col]) for r in rows[1:]}


def interrupt_at(args, log, step):
    """Runs train with args, SIGINT once `log` shows `step`; returns the checkpoint step."""
    if os.path.exists(os.path.join(WORK, log)):
        os.unlink(os.path.join(WORK, log))
    proc = subprocess.Popen([SSMFLOW, "train", "--log-json", log] + args, cwd=WORK, env=ENV,
                            stderr=subprocess.DEVNULL)
    while proc.poll() is None:
        path = os.path.join(WORK, log)
        if os.path.exists(path) and max(raw_step_losses(path), default=0) >= step:
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.002)
    if proc.wait() != 130:
        fail(f"the run to interrupt exited {proc.returncode}, not 130")
    return max(raw_step_losses(os.path.join(WORK, log)))


def check_cuda_emulated():
    ds = datasets()
    base = SMALL + ["--epochs", "3", "--batch-size", "8", "--warmup", "10", "--threads", "1",
                    "--checkpoint-every", "0", "-q"] + ds
    t0 = time.time()
    run(["train", "-o", "cpu.ssmf", "--log-json", "cpu.jsonl"] + base)
    run(["train", "-o", "emu.ssmf", "--log-json", "emu.jsonl", "--device", "cuda-emulated"]
        + base)
    print(f"cpu and cuda-emulated runs: {time.time() - t0:.1f} s")
    compare_runs("cpu.jsonl", "emu.jsonl", LOSS_TOL, "cpu vs cuda-emulated")
    if ckpt.meta(os.path.join(WORK, "emu.ssmf"))["device"] != "cuda-emulated":
        fail("META does not record the device")

    # the models (best epoch's parameters, copied from the device) score alike
    sa, sb = scores("cpu.ssmf", ds[-1]), scores("emu.ssmf", ds[-1])
    worst = max(rel(sa[k], sb[k]) for k in sa)
    if sa.keys() != sb.keys() or not worst <= 1e-4:
        fail(f"the models score differently: largest relative difference {worst:.2e}")
    print(f"{len(sa)} flow scores of the two models within {worst:.2e}")

    # checkpoints: an interrupted device run resumes on the device (moments uploaded) and on
    # the CPU (moments downloaded), both continuing the uninterrupted run
    emu = base + ["--device", "cuda-emulated"]
    k = interrupt_at(["-o", "i.ssmf"] + emu, "i.jsonl", 12)
    shutil.copy(os.path.join(WORK, "i.ssmf.ckpt"), os.path.join(WORK, "j.ssmf.ckpt"))
    run(["train", "-o", "i.ssmf", "--log-json", "i.jsonl", "--resume", "i.ssmf.ckpt"] + emu)
    run(["train", "-o", "j.ssmf", "--log-json", "j.jsonl", "--resume", "j.ssmf.ckpt"] + base)
    after = [s for s in sorted(step_log(os.path.join(WORK, "emu.jsonl"))) if s > k]
    a, b = raw_step_losses(os.path.join(WORK, "emu.jsonl")), raw_step_losses(
        os.path.join(WORK, "i.jsonl"))
    if a != b:
        fail(f"cuda-emulated resumed after step {k}: losses differ from the uninterrupted run "
             f"at steps {[s for s in a if a[s] != b.get(s)][:10]}")
    print(f"interrupted at step {k}, resumed on cuda-emulated: {len(a)} losses identical")
    compare_runs("cpu.jsonl", "j.jsonl", LOSS_TOL, "cuda-emulated checkpoint resumed on cpu",
                 after)

    # divergence is caught before a non-finite checkpoint is written
    p = run(["train", "-o", "nan.ssmf", "--lr", "1e30", "--warmup", "0", "--checkpoint-every",
             "1", "--batch-size", "4", "-q", "--device", "cuda-emulated"] + SMALL + ds,
            expect=5)
    err = p.stderr.strip()
    step = int(err.split("diverged at step ")[1].split(":")[0])
    st = ckpt.tstate(os.path.join(WORK, "nan.ssmf.ckpt"))
    params = np.frombuffer(ckpt.params(os.path.join(WORK, "nan.ssmf.ckpt")), dtype="<f4")
    if st["step"] != step - 1 or not np.all(np.isfinite(params)):
        fail(f"diverged at step {step}, kept checkpoint at step {st['step']}: {err!r}")
    print(err)

    # the GPU: exit 6 and one line naming CUDA without one; on a GPU, the CPU's losses
    p = run(["train", "-o", "gpu.ssmf", "--log-json", "gpu.jsonl", "--device", "cuda"] + base,
            expect=None)
    if p.returncode == 0:
        compare_runs("cpu.jsonl", "gpu.jsonl", GPU_LOSS_TOL, "cpu vs cuda (GPU)")
    else:
        lines = p.stderr.strip().splitlines()
        if (p.returncode != 6 or len(lines) != 1 or "CUDA" not in lines[0]
                or not lines[0].startswith("ssmflow: error: --device cuda")):
            fail(f"--device cuda without a GPU: exit {p.returncode}, {p.stderr!r}")
        if os.path.exists(os.path.join(WORK, "gpu.ssmf")):
            fail("a failed --device cuda run left a model behind")
        print(f"exit 6: {lines[0]}")


if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    globals()["check_" + sys.argv[4]]()
    print("ok")
