"""`ssmflow score` against independent oracles.

- a capture and the dataset extracted from it give the same scores (1e-5);
- ROC-AUC and PR-AUC equal scikit-learn's on the same scores and labels;
- label sources: native CSV, Zeek conn.log, CICFlowMeter CSV, BPF rules and input
  globs label exactly the flows an independent Python join picks;
- a label file that does not parse names its line; exit codes; --quiet;
- outputs are deterministic and --calibrate holds its false-positive rate.
"""
import csv
import hashlib
import json
import os
import subprocess
import sys

import h5py
import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from common import fail, tmpdir  # noqa: E402
from tshark_pairs import endpoint  # noqa: E402

NDPI = "traffic/nDPI/tests/cfgs/default/pcap"
LABELED = "labeled"


def run(ssmflow, *args, check=True):
    p = subprocess.run([ssmflow, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        fail(f"ssmflow {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


def h5_scores(path):
    with h5py.File(path) as f:
        fl = f["flows"][:]
        names = [n.decode() for n in f["label_names"][:]] if "label_names" in f else []
        return fl, f["score"][:], f["packets_scored"][:], names


def main(ssmflow, data):
    sample = [os.path.join(data, NDPI, n) for n in ("1kxun.pcap", "dns_doh.pcap", "quic-23.pcap")]
    scan = os.path.join(data, LABELED, "evilfingers-nmap-scans", "TCP_CONNECT_SCAN.pcap")
    with tmpdir() as td:
        # Capture and dataset: the same scores.
        ds = os.path.join(td, "s.h5")
        run(ssmflow, "extract", "-q", "--max-packets", "1000000", "-o", ds, *sample)
        a, b = os.path.join(td, "a.h5"), os.path.join(td, "b.h5")
        run(ssmflow, "score", "-q", "-o", a, *sample)
        run(ssmflow, "score", "-q", "-o", b, ds)
        fa, sa, na, _ = h5_scores(a)
        fb, sb, nb, _ = h5_scores(b)
        ia, ib = np.argsort(fa["flow_id"]), np.argsort(fb["flow_id"])
        if not np.array_equal(fa["flow_id"][ia], fb["flow_id"][ib]):
            fail("capture and dataset scoring give different flows")
        if not np.array_equal(na[ia], nb[ib]):
            fail("capture and dataset scoring score different packet counts")
        rel = np.abs(sa[ia] - sb[ib]) / np.maximum(np.abs(sb[ib]), 1e-3)
        if rel.max() > 1e-5:
            fail(f"capture vs dataset scores differ by {rel.max():.2e} relative")
        print(f"capture = dataset on {len(sa)} flows (max relative difference {rel.max():.1e})")

        # The output's /inputs: each capture's provenance (its SHA-256 as hashlib has it),
        # and through a dataset the dataset's own /inputs.
        want = [(p, hashlib.sha256(open(p, "rb").read()).hexdigest()) for p in sample]
        with h5py.File(ds) as f:
            dsin = [(x["path"].decode(), x["sha256"].decode(), int(x["packets"]))
                    for x in f["inputs"][:]]
        for out, expect in ((a, [w + (c[2],) for w, c in zip(want, dsin)]), (b, dsin)):
            with h5py.File(out) as f:
                got = [(x["path"].decode(), x["sha256"].decode(), int(x["packets"]))
                       for x in f["inputs"][:]]
            if got != expect:
                fail(f"{os.path.basename(out)}: /inputs {got} != {expect}")
        if [w[:2] for w in dsin] != want:
            fail(f"the dataset's /inputs {dsin} != {want}")
        print(f"/inputs: {len(want)} inputs' provenance in the capture's and the dataset's scores")

        # A dataset cut at --max-packets: the summary says how many flows (h5py counts them).
        cut = os.path.join(td, "cut.h5")
        run(ssmflow, "extract", "-q", "--max-packets", "10", "-o", cut, *sample)
        with h5py.File(cut) as f:
            fl = f["flows"][:]
            ncut = int(((fl["fwd_packets"] + fl["bwd_packets"]) > fl["packet_count"]).sum())
        p = run(ssmflow, "score", "-o", os.path.join(td, "cut_scores.h5"), cut)
        if not ncut or f"; {ncut} flows had more packets than the dataset kept" not in p.stderr:
            fail(f"score's summary should count {ncut} flows cut: {p.stderr.strip()}")

        # The GPU path (--device cuda-emulated runs the CUDA kernels' code on the CPU) gives
        # the CPU's scores, in sequence mode on a capture and on a dataset (step mode's:
        # test_modes.py).
        small = [os.path.join(data, NDPI, n) for n in ("dns_doh.pcap", "quic-23.pcap")]
        dsm = os.path.join(td, "small.h5")
        run(ssmflow, "extract", "-q", "--max-packets", "1000000", "-o", dsm, *small)
        for inputs in (small, [dsm]):
            cpu, gpu = os.path.join(td, "cpu.h5"), os.path.join(td, "gpu.h5")
            run(ssmflow, "score", "-q", "-o", cpu, *inputs)
            run(ssmflow, "score", "-q", "--device", "cuda-emulated", "--gpu-flows", "512",
                "-o", gpu, *inputs)
            fc, sc_, _, _ = h5_scores(cpu)
            fg, sg, _, _ = h5_scores(gpu)
            ic, ig = np.argsort(fc["flow_id"]), np.argsort(fg["flow_id"])
            if not np.array_equal(fc["flow_id"][ic], fg["flow_id"][ig]):
                fail("GPU path: different flows")
            err = np.abs(sc_[ic] - sg[ig]).max() / max(np.abs(sc_).max(), 1e-3)
            if err > 1e-5:
                fail(f"GPU path ({'capture' if inputs is small else 'dataset'}): scores differ "
                     f"by {err:.2e} relative")
        # The host level on the GPU path: each host sequence of up to SSMF_HOST_WINDOW events
        # runs on the engine of its length's shape (score/hosts.c: up to 16, 128 and 1024
        # rows), so the inputs must hold hosts of more than one shape.
        cpu, gpu = os.path.join(td, "hcpu.h5"), os.path.join(td, "hgpu.h5")
        run(ssmflow, "score", "-q", "-o", cpu, *sample)
        run(ssmflow, "score", "-q", "--device", "cuda-emulated", "-o", gpu, *sample)
        cols = ("host_score", "event_surprise_initiator", "event_surprise_responder")
        with h5py.File(cpu) as fc, h5py.File(gpu) as fg:
            ic, ig = np.argsort(fc["flows"]["flow_id"]), np.argsort(fg["flows"]["flow_id"])
            events = fc["hosts_flows_initiator"][:] + fc["hosts_flows_responder"][:]
            shapes = set(np.digitize(events + 1, [17, 129]))
            if len(shapes) < 2:
                fail(f"host level on the GPU path: hosts of one shape only ({shapes})")
            for c in cols:
                a, b = fc[c][:][ic], fg[c][:][ig]
                err = np.abs(a - b).max() / max(np.abs(a).max(), 1e-3)
                if not np.abs(a).max() or err > 1e-5:
                    fail(f"host level on the GPU path: {c} differs by {err:.2e} relative")
        print(f"host level: CPU = GPU path on {len(ic)} flows, {len(events)} hosts "
              f"(up to {events.max()} events)")
        p = run(ssmflow, "score", "--device", "cuda", small[0], check=False)
        if p.returncode not in (0, 6) or (p.returncode == 6 and "CUDA" not in p.stderr):
            fail(f"--device cuda without a GPU: exit {p.returncode}, {p.stderr.strip()}")

        # Deterministic: the same JSON lines twice, and in score order.
        j1, j2 = os.path.join(td, "1.jsonl"), os.path.join(td, "2.jsonl")
        run(ssmflow, "score", "-q", "--per-packet", "-o", j1, *sample)
        run(ssmflow, "score", "-q", "--per-packet", "-o", j2, *sample)
        if open(j1).read() != open(j2).read():
            fail("two runs gave different output")
        rows = [json.loads(x) for x in open(j1)]
        scores = [r["score"] for r in rows]
        if scores != sorted(scores, reverse=True):
            fail("JSON lines are not in score order")
        for r in rows:  # the per-packet surprises average to the flow's packet score, and
            pk = r["packets"]  # the score is the mean per observation (ssmflow-score(1))
            if len(pk) != r["packets_scored"] or pk[0]["surprise"] != 0:
                fail(f"flow {r['flow_id']}: per-packet list does not match")
            total = sum(p["surprise"] for p in pk[1:])
            if len(pk) > 1:
                mean = total / (len(pk) - 1)
                if abs(mean - r["packet_score"]) > 1e-4 * max(1, abs(r["packet_score"])):
                    fail(f"flow {r['flow_id']}: mean packet surprise {mean} != packet score "
                         f"{r['packet_score']}")
            if r["host_score"] != max(r["event_surprise"]):
                fail(f"flow {r['flow_id']}: host score is not its larger event surprise")
            # the default host weight, 0.5: the host event counts as half a packet; the
            # default activity weight, 1: the activity surprise is added; the default
            # evidence weight, 0.2: a fifth of the packets' evidence (checked against the
            # consumer in export.consumer_matches_score); the default peak weight, 0.1: a
            # tenth of the most surprising packet's surprise
            want = (total + 0.5 * r["host_score"]) / (len(pk) - 0.5) + r["activity"] + \
                0.2 * r["evidence"] + 0.1 * max((p["surprise"] for p in pk), default=0)
            if abs(want - r["score"]) > 1e-4 * max(1, abs(r["score"])):
                fail(f"flow {r['flow_id']}: score {r['score']} != {want} (packets and host)")

        # Input globs and metrics against scikit-learn.
        ev = os.path.join(td, "ev.h5")
        p = run(ssmflow, "score", "-o", ev, "--label-input", "attack=*/labeled/*",
                "--label-input", "benign=*/traffic/*", *sample, scan)
        fl, sc, npk, names = h5_scores(ev)
        if (fl["label"] < 0).any():
            fail("input globs left flows unlabelled")
        # every labelled flow counts (the host level scores one-packet flows); the 2+ packet
        # figure beside it
        y = np.array([names[x] == "attack" for x in fl["label"]], dtype=int)
        keep = npk >= 2
        with h5py.File(ev) as f:
            auc, ap = float(f.attrs["roc_auc"]), float(f.attrs["pr_auc"])
            auc2 = float(f.attrs["roc_auc_multi_packet"])
        if abs(auc - roc_auc_score(y, sc)) > 1e-9 or abs(ap - average_precision_score(y, sc)) > 1e-9:
            fail(f"metrics differ from scikit-learn: ROC-AUC {auc} vs {roc_auc_score(y, sc)}, "
                 f"PR-AUC {ap} vs {average_precision_score(y, sc)}")
        if abs(auc2 - roc_auc_score(y[keep], sc[keep])) > 1e-9:
            fail(f"2+ packet ROC-AUC {auc2} differs from scikit-learn's")
        if "ROC-AUC" not in p.stdout:
            fail("no evaluation printed")

        # BPF rules: exactly the flows with port 53 on either side (checked from the keys).
        rl = os.path.join(td, "rule.h5")
        run(ssmflow, "score", "-q", "-o", rl, "--label-rule", "dns=port 53",
            "--label-rule", "web=tcp port 443", *sample)
        fl, _, _, names = h5_scores(rl)
        for r in fl:
            want = ("dns" if 53 in (r["src_port"], r["dst_port"]) and r["protocol"] in (6, 17)
                    else "web" if r["protocol"] == 6 and 443 in (r["src_port"], r["dst_port"])
                    else None)
            got = names[r["label"]] if r["label"] >= 0 else None
            if want != got:
                fail(f"flow {r['flow_id']}: rule label {got}, expected {want}")

        # Native CSV and Zeek conn.log: written from the extracted flows, half labelled.
        with h5py.File(ds) as f:
            flows = f["flows"][:]
        pick = flows[::2]
        csvp, zeekp = os.path.join(td, "l.csv"), os.path.join(td, "conn.log")
        with open(csvp, "w") as o:
            o.write("src,dst,sport,dport,proto,start,end,label\n")
            for r in pick:
                v = int(r["ip_version"])
                s, d = endpoint(r["src_addr"], v, 0)[:-2], endpoint(r["dst_addr"], v, 0)[:-2]
                # reversed endpoints: a label matches either direction
                o.write(f"{d},{s},{r['dst_port']},{r['src_port']},{r['protocol']},"
                        f"{r['first_ts_ns'] / 1e9:.6f},{r['last_ts_ns'] / 1e9:.6f},mark{r['flow_id'] % 3}\n")
        with open(zeekp, "w") as o:
            o.write("#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\t"
                    "id.resp_h\tid.resp_p\tproto\tservice\tduration   label   detailed-label\n")
            for r in pick:
                v = int(r["ip_version"])
                s, d = endpoint(r["src_addr"], v, 0)[:-2], endpoint(r["dst_addr"], v, 0)[:-2]
                proto = {6: "tcp", 17: "udp", 1: "icmp"}.get(int(r["protocol"]), str(r["protocol"]))
                o.write(f"{r['first_ts_ns'] / 1e9:.6f}\tC{r['flow_id']}\t{s}\t{r['src_port']}\t{d}\t"
                        f"{r['dst_port']}\t{proto}\t-\t{r['duration_ns'] / 1e9:.6f}   "
                        f"mark{r['flow_id'] % 3}   -\n")
        expect = {}
        for r in flows:
            key = (int(r["protocol"]),) + tuple(sorted([(bytes(r["src_addr"]), int(r["src_port"])),
                                                        (bytes(r["dst_addr"]), int(r["dst_port"]))]))
            expect.setdefault(key, []).append(r)
        for src in (csvp, zeekp):
            out = os.path.join(td, "lab.h5")
            run(ssmflow, "score", "-q", "-o", out, "--labels", src, "--label-slack", "0.001", ds)
            fl, _, _, names = h5_scores(out)
            picked = {int(r["flow_id"]) for r in pick}
            for r in fl:
                got = names[r["label"]] if r["label"] >= 0 else None
                # a picked flow gets its mark; an unpicked flow only if it shares the 5-tuple
                # and time window of a picked one (none here: ports differ per flow)
                want = f"mark{r['flow_id'] % 3}" if int(r["flow_id"]) in picked else None
                if got != want:
                    key = (int(r["protocol"]),) + tuple(sorted(
                        [(bytes(r["src_addr"]), int(r["src_port"])),
                         (bytes(r["dst_addr"]), int(r["dst_port"]))]))
                    if len(expect[key]) == 1:
                        fail(f"{os.path.basename(src)}: flow {r['flow_id']} labelled {got}, "
                             f"expected {want}")

        # CICFlowMeter CSV: every flow of the netml demo gets a label that some CSV row with
        # its protocol and endpoints carries (either direction), and only such flows do.
        cic = os.path.join(data, LABELED, "netml-cicids2017-demo")
        lab = os.path.join(td, "cic.h5")
        run(ssmflow, "extract", "-q", "-o", lab, "--labels", os.path.join(cic, "demo.csv"),
            os.path.join(cic, "demo.pcap"))
        rows = {}
        with open(os.path.join(cic, "demo.csv"), newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            head = [h.strip() for h in next(reader)]
            ix = [head.index(k) for k in ("Source IP", "Source Port", "Destination IP",
                                          "Destination Port", "Protocol", "Label")]
            for r in reader:
                s, sp, d, dp, pr, lb = (r[i].strip() for i in ix)
                key = (int(pr),) + tuple(sorted([f"{s}:{sp}", f"{d}:{dp}"]))
                rows.setdefault(key, set()).add(lb)
        with h5py.File(lab) as f:
            fl = f["flows"][:]
            names = [n.decode() for n in f["label_names"][:]]
        joined = 0
        for r in fl:
            v = int(r["ip_version"])
            key = (int(r["protocol"]),) + tuple(sorted([
                endpoint(r["src_addr"], v, int(r["src_port"])),
                endpoint(r["dst_addr"], v, int(r["dst_port"]))]))
            got = names[r["label"]] if r["label"] >= 0 else None
            if (got is None) != (key not in rows) or (got is not None and got not in rows[key]):
                fail(f"CICFlowMeter join: flow {key} labelled {got}, CSV has {rows.get(key)}")
            joined += got is not None
        if joined < 50:
            fail(f"CICFlowMeter join labelled only {joined} flows")

        # A label file that does not parse: exit 2 and the line named.
        bad = os.path.join(td, "bad.csv")
        open(bad, "w").write("src,dst,proto,label\n10.0.0.1,10.0.0.2,tcp,x\n10.0.0.1,nope,tcp,y\n")
        p = run(ssmflow, "score", "--labels", bad, sample[0], check=False)
        if p.returncode != 2 or f"{bad}:3:" not in p.stderr:
            fail(f"bad label file: exit {p.returncode}, stderr {p.stderr.strip()}")

        # --calibrate: on the calibration data itself at most --fpr of the flows are flagged.
        cal = os.path.join(td, "cal.jsonl")
        run(ssmflow, "score", "-q", "--calibrate", ds, "--fpr", "0.05", "-o", cal, ds)
        rows = [json.loads(x) for x in open(cal)]
        flagged = sum(r["flagged"] for r in rows)
        if flagged > 0.05 * len(rows) or flagged == 0:
            fail(f"--calibrate --fpr 0.05 flagged {flagged} of {len(rows)} calibration flows")

        # --quiet prints nothing; a missing model is exit 2; bad options exit 1.
        p = run(ssmflow, "score", "-q", sample[1])
        if p.stdout or p.stderr:
            fail(f"--quiet printed: {p.stdout[:200]} {p.stderr[:200]}")
        if run(ssmflow, "score", "-m", os.path.join(td, "none.ssmf"), sample[1], check=False).returncode != 2:
            fail("a missing model is not exit 2")
        if run(ssmflow, "score", "--top", "x", sample[1], check=False).returncode != 1:
            fail("a bad option is not exit 1")
    print("score oracle checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
