"""The bundled model scores attack flows above normal traffic.

Attacks: every capture of ../shared/data/labeled/evilfingers-nmap-scans and
stopddos-attacks (each flow an attack, per file). Normal traffic: (1) the nDPI captures
the bundled model was trained on (models/default.inputs; in-sample), and (2) arkime's
protocol samples (../shared/data/robustness/arkime, never seen in training; out of
sample). Labels come from --label-input globs; ssmflow computes the ROC-AUC over flows
with a predicted packet (one-packet flows have none: the model abstains on them), and
the test recomputes it with scikit-learn from the HDF5 output.

Measured on 2026-11-22 with models/default.ssmf: in-sample ROC-AUC 0.987 (18,202 attack
and 4,288 normal flows), out-of-sample 0.932 (18,202 and 568). The bounds below leave a
margin for a retrained default model.
"""
import os
import subprocess
import sys

import h5py
import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from common import fail, tmpdir  # noqa: E402

BOUNDS = {"in-sample nDPI": 0.96, "out-of-sample arkime": 0.88}


def captures(data):
    attacks = []
    for d in ("evilfingers-nmap-scans", "stopddos-attacks"):
        root = os.path.join(data, "labeled", d)
        attacks += sorted(os.path.join(root, f) for f in os.listdir(root))
    src = os.path.join(os.path.dirname(__file__), "..", "..")
    ndpi = os.path.join(data, "traffic", "nDPI", "tests", "cfgs", "default", "pcap")
    normal_in = [os.path.join(ndpi, line.split("\t")[0].strip())
                 for line in open(os.path.join(src, "models", "default.inputs")) if line.strip()]
    clean = {line.split("\t")[0] for line in open(os.path.join(data, "reference",
                                                             "arkime.libpcap.tsv"))
             if line.split("\t")[1] == "0"}
    normal_out = []  # Ethernet captures that libpcap reads cleanly (capinfos' link type)
    for line in open(os.path.join(data, "reference", "arkime.capinfos.tsv")):
        c = line.split("\t")
        if c[0] in clean and len(c) > 2 and c[2] == "ether":
            normal_out.append(os.path.join(data, c[0]))
    return attacks, {"in-sample nDPI": normal_in, "out-of-sample arkime": normal_out}


def main(ssmflow, data):
    attacks, normals = captures(data)
    with tmpdir() as td:
        for name, normal in normals.items():
            out = os.path.join(td, "eval.h5")
            p = subprocess.run([ssmflow, "score", "-o", out, "--label-input", f"attack=*/labeled/*",
                                "--label-input", "benign=*", *attacks, *normal],
                               capture_output=True, text=True)
            if p.returncode not in (0, 3):
                fail(f"{name}: exit {p.returncode}: {p.stderr.strip()[-500:]}")
            with h5py.File(out) as f:
                fl, s, n = f["flows"][:], f["score"][:], f["packets_scored"][:]
                names = [x.decode() for x in f["label_names"][:]]
                auc = float(f.attrs["roc_auc"])
            y = np.array([names[x] == "attack" for x in fl["label"]])
            m = n >= 2
            ref = roc_auc_score(y[m], s[m])
            if abs(ref - auc) > 1e-9:
                fail(f"{name}: ssmflow's ROC-AUC {auc} differs from scikit-learn's {ref}")
            print(f"{name}: ROC-AUC {auc:.4f} over {int(y[m].sum())} attack and "
                  f"{int((~y[m]).sum())} normal flows (bound {BOUNDS[name]})")
            if auc < BOUNDS[name]:
                fail(f"{name}: ROC-AUC {auc:.4f} below {BOUNDS[name]}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
