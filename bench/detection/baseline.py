#!/usr/bin/python3
"""A flow-statistics baseline beside bench/detection/eval.py: scikit-learn's
IsolationForest over each flow's summary (the 30-odd CICFlowMeter-style statistics of
the datasets' /flows: packets, bytes, sizes, inter-arrival times, TCP flag counts,
duration, ports), fitted on the same normal training captures, scored on the same
held-back normal and attack captures. It answers: how much of the per-file ROC-AUC that
eval.py reports is a limit of what headers show, not of ssmflow's model?

    baseline.py --work DIR   (the DIR eval.py extracted into; run eval.py first)
"""
import argparse
import glob
import os
import re

import h5py
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

FIELDS = ["protocol", "dst_port", "duration_ns", "fwd_packets", "bwd_packets", "fwd_bytes",
          "bwd_bytes", "fwd_payload_bytes", "bwd_payload_bytes", "fwd_size_min",
          "fwd_size_mean", "fwd_size_std", "fwd_size_max", "bwd_size_min", "bwd_size_mean",
          "bwd_size_std", "bwd_size_max", "fwd_iat_min_ns", "fwd_iat_mean_ns",
          "fwd_iat_std_ns", "fwd_iat_max_ns", "bwd_iat_min_ns", "bwd_iat_mean_ns",
          "bwd_iat_std_ns", "bwd_iat_max_ns"]


def features(path):
    with h5py.File(path) as f:
        fl = f["flows"][:]
    cols = [np.log1p(fl[k].astype(np.float64)) for k in FIELDS]
    cols += [np.log1p(fl["fwd_flag_counts"][:, b].astype(np.float64)) for b in range(8)]
    cols += [np.log1p(fl["bwd_flag_counts"][:, b].astype(np.float64)) for b in range(8)]
    return np.stack(cols, 1) if len(fl) else np.zeros((0, len(cols)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/ssmflow-detection")
    a = ap.parse_args()
    os.environ.setdefault("HDF5_PLUGIN_PATH", os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", "..", "build", "plugins"))
    sets = {k: sorted(glob.glob(os.path.join(a.work, k, "*.h5")))
            for k in ("train", "normal", "attack", "generated")}
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    ndpi = re.compile("|".join(line.rstrip("\n").split("\t")[1]
                               for line in open(os.path.join(root, "models", "not-normal.txt"))
                               if line.startswith("attack\t")), re.I)
    train = np.concatenate([features(p) for p in sets["train"]])
    forest = IsolationForest(n_estimators=300, random_state=1).fit(train)
    normal = -forest.score_samples(np.concatenate([features(p) for p in sets["normal"]]))
    groups = {"nDPI attack captures": [], "labeled/ (scans, floods)": [], "generated": []}
    for kind in ("attack", "generated"):
        for p in sets[kind]:
            x = features(p)
            if not len(x):
                continue
            s = -forest.score_samples(x)
            y = np.r_[np.zeros(len(normal)), np.ones(len(s))]
            auc = roc_auc_score(y, np.r_[normal, s])
            g = "generated" if kind == "generated" else (
                "nDPI attack captures" if ndpi.search(os.path.basename(p))
                else "labeled/ (scans, floods)")
            groups[g].append(auc)
    print(f"IsolationForest over flow statistics ({train.shape[0]} training flows, "
          f"{len(normal)} held-back normal):")
    print("| attack captures | files | mean per-file ROC-AUC |\n|---|---|---|")
    for g, v in groups.items():
        if v:
            print(f"| {g} | {len(v)} | {np.mean(v):.3f} |")


if __name__ == "__main__":
    main()
