"""The bundled model scores attack flows above normal traffic.

Attacks: every capture of ../shared/data/labeled/evilfingers-nmap-scans and
stopddos-attacks (each flow an attack, per file). Normal traffic: (1) the nDPI captures
the bundled model was trained on (models/default.inputs; in-sample), and (2) arkime's
protocol samples (../shared/data/robustness/arkime, never seen in training; out of
sample). Labels come from --label-input globs; ssmflow computes the ROC-AUC over every
flow (one-packet flows included: the host level scores them), over the flows of 2+
packets, and the mean per attack capture; the test recomputes all three with
scikit-learn from the HDF5 output. The captures are given in one run, so they are one
time line for the host level (hosts of different captures rarely share an address).

Measured on 2026-12-02 with models/default.ssmf (packet and host level, host weight
0.5, activity weight 1): in-sample 0.997 / 0.995 / 0.988 (87,552 attack and 5,871
normal flows), out of sample 0.994 / 0.991 / 0.976 (87,552 and 763). Without the
activity (--activity-weight 0) they were 0.979 / 0.991 / 0.958 and 0.890 / 0.928 /
0.864; with the packet level alone (host weight 0) the all-flow figures were 0.30 out of
sample: one-packet flows scored 0. With the evidence and the peak term (2026-12-03,
--evidence-weight 0.2, --peak-weight 0.1): in-sample 0.996 / 0.995 / 0.987, out of sample
0.991 / 0.985 / 0.969 (the peak lifts normal multi-packet flows a little against the
one-packet probes). The bounds below leave a margin for a retrained default model.
"""
import os
import subprocess
import sys

import h5py
import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from common import fail, tmpdir  # noqa: E402

# (all flows, flows of 2+ packets, mean per attack capture)
BOUNDS = {"in-sample nDPI": (0.98, 0.98, 0.96), "out-of-sample arkime": (0.97, 0.97, 0.94)}


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
                inp = f["input"][:]
                names = [x.decode() for x in f["label_names"][:]]
                got = {k: float(f.attrs[k]) for k in ("roc_auc", "roc_auc_multi_packet",
                                                      "roc_auc_mean_per_input")}
            y = np.array([names[x] == "attack" for x in fl["label"]])
            m = n >= 2
            per_input = [roc_auc_score(y[(inp == k) | ~y], s[(inp == k) | ~y])
                         for k in np.unique(inp[y])]
            ref = {"roc_auc": roc_auc_score(y, s), "roc_auc_multi_packet":
                   roc_auc_score(y[m], s[m]), "roc_auc_mean_per_input": np.mean(per_input)}
            for k, v in ref.items():
                if abs(v - got[k]) > 1e-9:
                    fail(f"{name}: ssmflow's {k} {got[k]} differs from scikit-learn's {v}")
            print(f"{name}: ROC-AUC {got['roc_auc']:.4f} over {int(y.sum())} attack and "
                  f"{int((~y).sum())} normal flows ({int((~m).sum())} of one packet); "
                  f"{got['roc_auc_multi_packet']:.4f} over the {int(m.sum())} of 2+ packets; "
                  f"mean per attack capture {got['roc_auc_mean_per_input']:.4f} over "
                  f"{len(per_input)} (bounds {BOUNDS[name]})")
            for k, bound in zip(("roc_auc", "roc_auc_multi_packet", "roc_auc_mean_per_input"),
                                BOUNDS[name]):
                if got[k] < bound:
                    fail(f"{name}: {k} {got[k]:.4f} below {bound}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
