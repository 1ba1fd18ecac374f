#!/usr/bin/python3
"""How far headers can take the per-file figure of bench/detection/eval.py: a supervised
ceiling. For each attack capture, a gradient-boosted classifier is trained with the labels
of every *other* attack capture and of half the held-back normal captures (split by file),
and ranks the left-out capture's flows against the other half's normal flows (then the
halves swap; the two ROC-AUCs are averaged). It sees what no anomaly detector sees, the
attack labels, on the same per-flow inputs, in three sets: the flow statistics of
baseline.py, ssmflow's own score parts (packet, host, activity, evidence and peak terms and
their components), and both.

It is not a proof of a floor: a classifier learns what the other attacks share, and an
attack unlike the others can be found by a detector of novelty and missed by it. It says
how much of what sets one capture's flows apart from normal ones the other captures'
labels can teach from these inputs.

    ceiling.py --work DIR [--splits K]   (the DIR eval.py scored into; run eval.py first)

With --splits K the held-back normal captures are halved K ways (split 0 by a hash of the
name, split k by a hash of k and the name) and the figures are the mean over the splits,
their range beside them.
"""
import argparse
import os
import sys
import zlib

import h5py
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from baseline import FIELDS  # noqa: E402

PARTS = ["packet_score", "host_score", "activity", "evidence", "max_surprise",
         "score_direction", "score_size", "score_gap", "score_flags", "host_score_role",
         "host_score_size", "host_score_interval", "host_score_flags", "activity_rate",
         "activity_repeats", "activity_new_peers", "activity_returns"]
LABELED = ("evilfingers-nmap-scans", "stopddos-attacks")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/ssmflow-detection")
    ap.add_argument("--splits", type=int, default=1)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "..", "..", "shared", "data"))
    a = ap.parse_args()
    os.environ.setdefault("HDF5_PLUGIN_PATH", os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", "..", "build", "plugins"))
    inputs = [x.rstrip("\n") for x in open(os.path.join(a.work, "scores.inputs"))]
    labeled = set()
    for d in LABELED:
        labeled |= {f + ".h5" for f in os.listdir(os.path.join(a.data, "labeled", d))}
    with h5py.File(os.path.join(a.work, "scores.h5")) as f:
        fl = f["flows"][:]
        names = [x.decode() for x in f["label_names"][:]]
        parts = np.stack([f[k][:] for k in PARTS], 1)
        src = f["source"][:]
    y = np.array([names[x] == "attack" for x in fl["label"]])
    stats = [np.log1p(fl[k].astype(np.float64)) for k in FIELDS]
    stats += [np.log1p(fl[d + "_flag_counts"][:, b].astype(np.float64))
              for d in ("fwd", "bwd") for b in range(8)]
    stats = np.stack(stats, 1)
    kind = [os.path.basename(os.path.dirname(p)) for p in inputs]
    attack = np.array([k == "attack" for k in kind])
    from_attack = attack[src]
    sets = {"flow statistics": stats, "ssmflow's score parts": parts,
            "both": np.concatenate([stats, parts], 1)}
    per_file = {}  # capture -> input set -> [AUC per split]
    for split in range(a.splits):
        # the held-back normal captures in two halves, by a hash of the name
        salt = f"{split}:" if split else ""
        half = np.array([zlib.crc32((salt + os.path.basename(p)).encode()) & 1
                         if k == "normal" else -1 for p, k in zip(inputs, kind)])[src]
        for label, x in sets.items():
            for k in np.flatnonzero(attack):
                aucs = []
                for j in (0, 1):
                    train = (half == 1 - j) | (from_attack & (src != k))
                    test = (half == j) | (src == k)
                    clf = HistGradientBoostingClassifier(
                        max_iter=200, class_weight="balanced", random_state=0).fit(
                        x[train], y[train])
                    aucs.append(roc_auc_score(y[test], clf.predict_proba(x[test])[:, 1]))
                per_file.setdefault(os.path.basename(inputs[k])[:-3], {}).setdefault(
                    label, []).append(np.mean(aucs))
    print("Supervised ceiling: each attack capture left out, the labels of the others taught"
          + (f"; the mean over {a.splits} splits of the normal halves (range)"
             if a.splits > 1 else ""))
    print("| attack captures | files | " + " | ".join(sets) + " |")
    print("|---|---|" + "---|" * len(sets))
    groups = {"labeled/ (scans, floods)": [n for n in per_file if n + ".h5" in labeled],
              "nDPI attack captures": [n for n in per_file if n + ".h5" not in labeled],
              "all real attack captures": list(per_file)}

    def cell(members, s):
        by_split = [np.mean([per_file[n][s][i] for n in members]) for i in range(a.splits)]
        return f"{np.mean(by_split):.3f}" + (
            f" ({min(by_split):.3f}-{max(by_split):.3f})" if a.splits > 1 else "")
    for g, members in groups.items():
        print(f"| {g} | {len(members)} | " + " | ".join(cell(members, s) for s in sets) + " |")
    print("\nper file:\n| capture | " + " | ".join(sets) + " |\n|---|" + "---|" * len(sets))
    for n in sorted(per_file):
        print(f"| {n} | " + " | ".join(f"{np.mean(per_file[n][s]):.3f}" for s in sets) + " |")


if __name__ == "__main__":
    main()
