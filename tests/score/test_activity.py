"""The activity profile lifts the hosts whose flows look normal one by one (score/hosts.h),
and the packets' evidence (ssm/evidence.h) the long flows a little surprising throughout.

Attacks: the captures bench/detection/behaviours.py writes (an SSH brute force, an HTTPS
beacon, a Stratum miner, an ICMP sweep, a DNS tunnel's query burst: their tools' default
sizes and timing; no capture of them is in ../shared/data). Normal traffic: arkime's
protocol samples (never seen by the bundled model). The bundled model scores them in one
run with its default weights, again with --activity-weight 0 and again with
--evidence-weight 0; per attack capture, the
ROC-AUC of its flows against every normal flow (scikit-learn, from the HDF5 output).

The brute force, the sweep, the burst and the beacon are what the activity is for: each
of their flows is ordinary, their hosts' rate of connections, repeats, new peers and
returns to one service are not. Measured on 2026-12-02 with models/default.ssmf (activity
on / off): brute force 0.991 / 0.708, sweep 0.984 / 0.882, DNS burst 0.995 / 0.376,
beacon 0.872 / 0.329 (0.523 before host event version 3 counted returns); miner 0.626 /
0.647. The miner (one long connection) is not the activity's: it is the evidence's. Measured
on 2026-12-03 (evidence on / off): miner 0.720 / 0.626; the others move by under 0.006.
With the peak term (--peak-weight 0.1, 2026-12-03): brute force 0.992, sweep 0.971, burst
0.995, beacon 0.865, miner 0.812 (0.724 without the evidence).
"""
import os
import subprocess
import sys

import h5py
import numpy as np
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench", "detection"))
from common import fail, tmpdir  # noqa: E402
import behaviours  # noqa: E402
sys.path.insert(0, HERE)
from test_detection import captures  # noqa: E402

# per capture: the least ROC-AUC with the activity on, and how much it must gain over off
BOUNDS = {"ssh_bruteforce": (0.95, 0.15), "icmp_sweep": (0.93, 0.05),
          "dns_burst": (0.95, 0.40), "https_beacon": (0.80, 0.30)}
# the same with the evidence on and off
EVIDENCE_BOUNDS = {"stratum_mining": (0.68, 0.06)}


def run(ssmflow, out, inputs, *extra):
    p = subprocess.run([ssmflow, "score", "-q", "-o", out, "--label-input", "attack=*/gen/*",
                        "--label-input", "benign=*", *extra, *inputs],
                       capture_output=True, text=True)
    if p.returncode not in (0, 3):
        fail(f"score: exit {p.returncode}: {p.stderr.strip()[-500:]}")
    with h5py.File(out) as f:
        names = [x.decode() for x in f["label_names"][:]]
        y = np.array([names[x] == "attack" for x in f["flows"]["label"]])
        return y, f["score"][:], f["input"][:]


def per_capture(y, s, inp, inputs):
    return {os.path.basename(inputs[k])[:-5]: roc_auc_score(y[(inp == k) | ~y],
                                                           s[(inp == k) | ~y])
            for k in np.unique(inp[y])}


def main(ssmflow, data):
    _, normals = captures(data)
    with tmpdir() as td:
        gen = os.path.join(td, "gen")
        os.makedirs(gen)
        for name, make in behaviours.BEHAVIOURS.items():
            behaviours.write(os.path.join(gen, name + ".pcap"), make(behaviours.random.Random(
                f"1:{name}")))
        inputs = sorted(os.path.join(gen, f) for f in os.listdir(gen)) + \
            normals["out-of-sample arkime"]
        on = per_capture(*run(ssmflow, os.path.join(td, "on.h5"), inputs), inputs)
        off = per_capture(*run(ssmflow, os.path.join(td, "off.h5"), inputs,
                               "--activity-weight", "0"), inputs)
        noev = per_capture(*run(ssmflow, os.path.join(td, "noev.h5"), inputs,
                                "--evidence-weight", "0"), inputs)
        for name in sorted(on):
            print(f"{name}: ROC-AUC {on[name]:.4f} with the activity, {off[name]:.4f} without,"
                  f" {noev[name]:.4f} without the evidence"
                  + (f" (bounds {BOUNDS[name]})" if name in BOUNDS else ""))
        for name, (least, gain) in BOUNDS.items():
            if on[name] < least or on[name] - off[name] < gain:
                fail(f"{name}: ROC-AUC {on[name]:.4f} (without the activity "
                     f"{off[name]:.4f}); want >= {least} and a gain >= {gain}")
        for name, (least, gain) in EVIDENCE_BOUNDS.items():
            if on[name] < least or on[name] - noev[name] < gain:
                fail(f"{name}: ROC-AUC {on[name]:.4f} (without the evidence "
                     f"{noev[name]:.4f}); want >= {least} and a gain >= {gain}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
