#!/usr/bin/python3
"""Detection on captures the model never saw: train on normal nDPI captures (split by
file), score the held-back normal ones against every attack capture, and print all-flow
ROC-AUC, TPR at 1 % FPR, the multi-packet AUC and the mean per-file AUC, for the packet
level alone (the model as it was: host weight 0) beside the host level at several weights.

    bench/detection/eval.py [--ssmflow build/ssmflow] [--data ../shared/data] [--work DIR]

Normal: nDPI captures whose names models/not-normal.txt does not list; 7 in 10 of them (by
a hash of the name) train, the rest are held back. Attacks: the nDPI captures listed as
"attack" there, and every capture of labeled/evilfingers-nmap-scans and
labeled/stopddos-attacks. Each capture is its own dataset: hosts never span captures.
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys

import h5py
import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def patterns():
    out = {"attack": [], "broken": []}
    for line in open(os.path.join(ROOT, "models", "not-normal.txt")):
        if line.startswith("#") or not line.strip():
            continue
        kind, rx = line.rstrip("\n").split("\t")
        out[kind].append(rx)
    return {k: re.compile("|".join(v), re.I) for k, v in out.items()}


def captures(data):
    pcaps = os.path.join(data, "traffic", "nDPI", "tests", "cfgs", "default", "pcap")
    rx = patterns()
    normal, attack = [], []
    for f in sorted(os.listdir(pcaps)):
        if not re.search(r"\.(pcap|pcapng|cap)$", f):
            continue
        if rx["broken"].search(f):
            continue
        (attack if rx["attack"].search(f) else normal).append(os.path.join(pcaps, f))
    for d in ("evilfingers-nmap-scans", "stopddos-attacks"):
        root = os.path.join(data, "labeled", d)
        attack += sorted(os.path.join(root, f) for f in os.listdir(root))
    held = lambda p: hashlib.sha256(os.path.basename(p).encode()).digest()[0] % 10 >= 7
    return [p for p in normal if not held(p)], [p for p in normal if held(p)], attack


def extract(ssmflow, pcap, out):
    if os.path.exists(out):
        return True
    p = subprocess.run([ssmflow, "extract", "-q", "--max-packets", "256", "-o", out, pcap],
                       capture_output=True, text=True)
    return p.returncode in (0, 3) and os.path.exists(out)


def tpr_at(y, s, fpr):
    f, t, _ = roc_curve(y, s)
    return float(np.interp(fpr, f, t))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ssmflow", default=os.path.join(ROOT, "build", "ssmflow"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--work", default="/tmp/ssmflow-detection")
    ap.add_argument("--retrain", action="store_true")
    ap.add_argument("--weights", default="0:0:0:0,0.5:0:0:0,0.5:1:0:0,0.5:1:0.2:0,"
                    "0.5:1:0.2:0.05,0.5:1:0.2:0.1,0.5:1:0.2:0.2,0.5:1:0.5:0.1,1:1:0.2:0.1",
                    help="host:activity:evidence:peak weights to compare (score "
                    "--host-weight, --activity-weight, --evidence-weight, --peak-weight; "
                    "evidence 0.2 and peak 0.1 when left out)")
    ap.add_argument("--behaviours", metavar="DIR",
                    help="also score the captures behaviours.py writes into DIR (generated "
                    "brute force, beacon, mining, sweep and DNS-tunnel hosts), reported apart")
    a = ap.parse_args()
    os.environ.setdefault("HDF5_PLUGIN_PATH",
                          os.path.join(os.path.dirname(os.path.abspath(a.ssmflow)), "plugins"))
    train, held, attack = captures(a.data)
    generated = []
    if a.behaviours:
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "behaviours.py"),
                        a.behaviours], check=True)
        generated = sorted(os.path.join(a.behaviours, f) for f in os.listdir(a.behaviours)
                           if f.endswith(".pcap"))
    sets = {}
    for kind, lst in (("train", train), ("normal", held), ("attack", attack),
                      ("generated", generated)):
        os.makedirs(os.path.join(a.work, kind), exist_ok=True)
        sets[kind] = []
        for p in lst:
            out = os.path.join(a.work, kind, os.path.basename(p) + ".h5")
            if extract(a.ssmflow, p, out):
                sets[kind].append(out)
    print(f"captures: {len(sets['train'])} normal to train, {len(sets['normal'])} normal held "
          f"back, {len(sets['attack'])} attack", file=sys.stderr)
    model = os.path.join(a.work, "model.ssmf")
    if a.retrain or not os.path.exists(model):
        env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600")
        subprocess.run([a.ssmflow, "train", "-q", "--seed", "1", "--threads", "2", "--epochs",
                        "15", "--patience", "3", "--batch-size", "32", "--max-len", "256",
                        "--lr", "3e-3", "--warmup", "100", "-o", model, *sets["train"]],
                       check=True, env=env)
    out = os.path.join(a.work, "scores.h5")
    inputs = sets["normal"] + sets["attack"] + sets["generated"]
    with open(os.path.join(a.work, "scores.inputs"), "w") as f:  # source k is line k
        f.write("".join(p + "\n" for p in inputs))
    subprocess.run([a.ssmflow, "score", "-q", "-m", model, "-o", out,
                    "--label-input", "attack=*/attack/*", "--label-input", "attack=*/generated/*",
                    "--label-input", "benign=*/normal/*", *inputs], check=True)
    with h5py.File(out) as f:
        fl = f["flows"][:]
        names = [x.decode() for x in f["label_names"][:]]
        pkt, host, act = f["packet_score"][:], f["host_score"][:], f["activity"][:]
        evidence, peak = f["evidence"][:], f["max_surprise"][:]
        n, src = f["packets_scored"][:], f["source"][:]
    y = np.array([names[x] == "attack" for x in fl["label"]])
    first_gen = len(sets["normal"]) + len(sets["attack"])
    real = src < first_gen  # the columns: real captures only; generated ones per file
    multi = n >= 2
    normal_idx = ~y
    rows = []
    pred = np.maximum(n.astype(float) - 1, 0)
    for triple in a.weights.split(","):
        given = [float(x) for x in triple.split(":")]
        w, aw, ew, pw = (given + [0, 0, 0.2, 0.1][len(given):])[:4]
        # score's formula (score/hosts.h): the mean surprise per observation, the host
        # event counted w times, plus aw times the activity surprise, ew times the
        # packets' evidence and pw times the most surprising packet's surprise
        s = np.where(pred + w > 0, (pkt * pred + w * host) / np.maximum(pred + w, 1e-300), 0)
        if w > 0:
            s = s + aw * act + ew * evidence + pw * peak
        files = []
        for k in range(len(sets["normal"]), len(inputs)):
            m = (src == k)
            if m.sum() == 0:
                continue
            sel = m | normal_idx
            files.append((os.path.basename(inputs[k])[:-3], int(m.sum()),
                          roc_auc_score(y[sel], s[sel]), k >= first_gen))
        rs, rm = y[real], multi & real
        mean = lambda gen: float(np.mean([x[2] for x in files if x[3] == gen] or [np.nan]))
        rows.append((f"{w:g} / {aw:g} / {ew:g} / {pw:g}", roc_auc_score(rs, s[real]),
                     tpr_at(rs, s[real], 0.01), roc_auc_score(y[rm], s[rm]), mean(False),
                     files, mean(True)))
    yr, mr = y[real], multi[real]
    print(f"{int(yr.sum())} attack and {int((~yr).sum())} normal flows "
          f"({int((yr & ~mr).sum())} and {int((~yr & ~mr).sum())} of one packet)"
          + (f"; {int((~real).sum())} flows of generated captures" if generated else ""))
    print("| host / activity / evidence / peak weight | all-flow ROC-AUC | TPR at 1 % FPR | "
          "multi-packet ROC-AUC | mean per-file ROC-AUC |"
          + (" mean per-file, generated |" if generated else ""))
    print("|---|---|---|---|---|" + ("---|" if generated else ""))
    for label, auc, tpr, mauc, mf, _, mg in rows:
        label += " (packet level alone)" if label.startswith("0 /") else ""
        print(f"| {label} | {auc:.3f} | {tpr:.3f} | {mauc:.3f} | {mf:.3f} |"
              + (f" {mg:.3f} |" if generated else ""))
    print("\nper file (attack flows; ROC-AUC against every held-back normal flow):")
    print("| capture | flows | " + " | ".join(r[0] for r in rows) + " |")
    print("|---|---|" + "---|" * len(rows))
    for i, (name, cnt, _, gen) in enumerate(rows[0][5]):
        print(f"| {name}{' (generated)' if gen else ''} | {cnt} | "
              + " | ".join(f"{r[5][i][2]:.3f}" for r in rows) + " |")


if __name__ == "__main__":
    main()
