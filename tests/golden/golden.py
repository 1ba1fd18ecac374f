"""Golden outputs: extract, score, export, info and train on a few shared captures, compared with the
hashes in golden.json. A refactoring must leave every output byte for byte as it was.

Each case runs one command line in a scratch folder where the captures are linked under
short names (so no output holds a machine's path), then reduces each output to a canonical
dump: text files as they are; HDF5 files as h5py reads them (every dataset's dtype and raw
bytes, every attribute), with the software version masked; safetensors as the header JSON
(version masked) and the raw tensor bytes; a training log without its speed; model files
(their time pinned by SOURCE_DATE_EPOCH) and what a command prints with the version masked. The dump's SHA-256 is what golden.json keeps.

  golden.py check  SSMFLOW DATA SRC [--dump DIR]   exit 1 when an output differs
  golden.py update SSMFLOW DATA SRC                rewrite golden.json (an intended change:
                                                   say why in the commit)

Float results are bit-reproducible on one CPU level and differ in rounding across levels:
the hot loops are cloned for x86-64-v4, -v3 and baseline (ssm/internal.h), and the clones
contract FMAs and vectorise differently. `ssmflow --version` names the level this CPU runs
("cpu kernels:"). golden.json holds every hash on the level it names under "cpu kernels";
golden.LEVEL.json holds, for another level, only the hashes that differ there. `update` on
golden.json's level rewrites it and drops the other levels' entries whose output changed
(they must be made again on such a machine); on another level it rewrites that level's file.

--dump writes the canonical dumps to DIR, to diff two builds' outputs when a hash differs.
"""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden.json")
LEVEL_KEY = "cpu kernels"


def level_file(level):
    return os.path.join(HERE, f"golden.{level.replace(' ', '-')}.json")


def cpu_level(ssmflow):
    out = subprocess.run([ssmflow, "--version"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith(LEVEL_KEY + ":"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"FAIL: {ssmflow} --version names no '{LEVEL_KEY}:' line")


def load(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def save(path, hashes):
    with open(path, "w") as f:
        json.dump(hashes, f, indent=1, sort_keys=True)
        f.write("\n")
NDPI = "traffic/nDPI/tests/cfgs/default/pcap"
SCANS = "labeled/evilfingers-nmap-scans"

# Short name in the scratch folder -> path under the shared data folder.
CAPTURES = {
    "doh.pcap": f"{NDPI}/dns_doh.pcap",
    "quic.pcap": f"{NDPI}/quic-23.pcap",
    "kxun.pcap": f"{NDPI}/1kxun.pcap",
    "syn.pcap": f"{SCANS}/TCP_SYN_SCAN.pcap",
}
SMALL = ["syn.pcap", "quic.pcap", "doh.pcap"]  # in time order
LABELS = ["--label-input", "scan=syn*", "--label-rule", "normal=udp"]
THREADS = ["--threads", "2"]
TINY_MODEL = [*THREADS, "--epochs", "2", "--max-steps", "6", "--batch-size", "8", "--max-len",
              "32", "--d-model", "16", "--headdim", "8", "--d-state", "8", "--warmup", "2"]

# name, ssmflow arguments, outputs whose dumps are hashed ("stdout" is the command's
# standard output). {src} is the source tree.
CASES = [
    ("extract", ["extract", "-q", "-o", "ds.h5", *SMALL], ["ds.h5"]),
    ("extract_labels_records",
     ["extract", "-q", "-o", "dsl.h5", "--records", "rec.bin", "--max-packets", "8",
      "--idle-timeout", "30", *LABELS, *SMALL], ["dsl.h5", "rec.bin"]),
    ("score_table", ["score", *THREADS, *LABELS, "--top", "15", *SMALL], ["stdout"]),
    ("score_csv", ["score", "-q", *THREADS, "--per-packet", "-o", "s.csv", *SMALL],
     ["s.csv", "s.csv.packets.csv", "s.csv.hosts.csv"]),
    ("score_jsonl", ["score", "-q", *THREADS, "--per-packet", "-o", "s.jsonl", *LABELS,
                     *SMALL], ["s.jsonl", "s.jsonl.hosts.jsonl"]),
    ("score_hdf5", ["score", "-q", *THREADS, "--per-packet", *LABELS, "--threshold", "3",
                    "-o", "s.h5", *SMALL], ["s.h5"]),
    ("score_dataset", ["score", "-q", *THREADS, "-o", "d.jsonl", "ds.h5"],
     ["d.jsonl", "d.jsonl.hosts.jsonl"]),
    ("score_step", ["score", "-q", *THREADS, "--mode", "step", "-o", "st.csv", *SMALL],
     ["st.csv", "st.csv.hosts.csv"]),
    ("score_chunk_calibrate",
     ["score", *THREADS, "--chunk", "16", "--calibrate", "kxun.pcap", "--fpr", "0.01",
      *LABELS, "--host-weight", "1.5", "-F", "csv", "-o", "-", *SMALL], ["stdout"]),
    ("score_no_host", ["score", "-q", *THREADS, "--host-weight", "0", "-o", "nh.jsonl",
                       *SMALL], ["nh.jsonl"]),
    ("score_emulated_sequence",
     ["score", "-q", *THREADS, "--device", "cuda-emulated", "-o", "es.jsonl", *SMALL],
     ["es.jsonl", "es.jsonl.hosts.jsonl"]),
    ("score_emulated_step",
     ["score", "-q", *THREADS, "--device", "cuda-emulated", "--mode", "step",
      "--gpu-flows", "4096", "-o", "ep.jsonl", *SMALL], ["ep.jsonl", "ep.jsonl.hosts.jsonl"]),
    ("export_f32", ["export", "-q", "{src}/models/default.ssmf", "-o", "m.safetensors"],
     ["m.safetensors", "m.host.safetensors"]),
    ("export_bf16", ["export", "-q", "--dtype", "bf16", "{src}/models/default.ssmf", "-o",
                     "b.safetensors"], ["b.safetensors", "b.host.safetensors"]),
    ("info", ["info", "ds.h5", "dsl.h5", "m.safetensors"], ["stdout"]),
    ("train", ["train", "-q", *TINY_MODEL, "--log-json", "t.log.jsonl", "-o", "t.ssmf",
               "ds.h5"], ["t.ssmf", "t.ssmf.ckpt", "t.log.jsonl"]),
    ("train_emulated", ["train", "-q", *TINY_MODEL, "--device", "cuda-emulated",
                        "--supervised", "--log-json", "te.log.jsonl", "-o", "te.ssmf",
                        "dsl.h5"], ["te.ssmf", "te.log.jsonl"]),
]

VERSION_KEYS = {"software"}


def dump_h5(path):
    """Every object of the file in name order: datasets' dtype, shape and bytes, and
    every attribute's value, the software version masked."""
    out = []

    def attrs(obj):
        for k in sorted(obj.attrs):
            v = "<masked>" if k in VERSION_KEYS else obj.attrs[k]
            if isinstance(v, np.ndarray):
                v = (str(v.dtype), v.shape, v.tobytes().hex())
            out.append(f"  @{k} = {v!r}")

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            a = obj[()]
            raw = repr(a.tolist()).encode() if a.dtype.hasobject else a.tobytes()
            out.append(f"{name}: {a.dtype} {a.shape} "
                       f"{hashlib.sha256(raw).hexdigest()}")
        else:
            out.append(f"{name}/")
        attrs(obj)

    with h5py.File(path, "r") as f:
        out.append("/")
        attrs(f)
        f.visititems(visit)
    return ("\n".join(out) + "\n").encode()


def dump_safetensors(path):
    """The header JSON (version masked, keys sorted) and the tensor bytes."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.get("__metadata__", {})
    for k in VERSION_KEYS & set(meta):
        meta[k] = "<masked>"
    return json.dumps(header, sort_keys=True).encode() + b"\n" + blob[8 + n:]


def dump_train_log(path):
    """The log without its one wall-clock figure."""
    out = []
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            o.pop("packets_per_s", None)
            out.append(json.dumps(o, sort_keys=True))
    return ("\n".join(out) + "\n").encode()


def canonical(path, version):
    if path.endswith(".log.jsonl"):
        return dump_train_log(path)
    if path.endswith(".h5"):
        return dump_h5(path)
    if path.endswith(".safetensors"):
        return dump_safetensors(path)
    with open(path, "rb") as f:
        # a model file's metadata: its creation time is pinned (SOURCE_DATE_EPOCH)
        return f.read().replace(f"ssmflow {version}".encode(), b"ssmflow <masked>")


def run_cases(ssmflow, data, src, dump_dir):
    hashes = {}
    # "ssmflow 0.1.0 (record version 1)": the version, masked in what the commands print
    version = subprocess.run([ssmflow, "--version"], capture_output=True,
                             text=True).stdout.split()[1]
    with tempfile.TemporaryDirectory(prefix="ssmflow-golden-") as td:
        for short, rel in CAPTURES.items():
            os.symlink(os.path.join(data, rel), os.path.join(td, short))
        for name, args, outputs in CASES:
            args = [a.replace("{src}", src) for a in args]
            p = subprocess.run([ssmflow, *args], cwd=td, capture_output=True,
                               env=dict(os.environ, SOURCE_DATE_EPOCH="0"))
            if p.returncode != 0:
                raise SystemExit(f"FAIL: {name}: ssmflow {' '.join(args)} exited "
                                 f"{p.returncode}: {p.stderr.decode(errors='replace')}")
            for o in outputs:
                if o == "stdout":
                    body = p.stdout.replace(f"ssmflow {version}".encode(), b"ssmflow <masked>")
                else:
                    body = canonical(os.path.join(td, o), version)
                key = f"{name}:{o}"
                hashes[key] = hashlib.sha256(body).hexdigest()
                if dump_dir:
                    with open(os.path.join(dump_dir, key.replace(":", "__")), "wb") as f:
                        f.write(body)
    return hashes


def main(argv):
    if len(argv) < 4 or argv[0] not in ("check", "update"):
        raise SystemExit(__doc__)
    mode, ssmflow, data, src = argv[:4]
    dump_dir = argv[5] if len(argv) > 5 and argv[4] == "--dump" else None
    if dump_dir:
        os.makedirs(dump_dir, exist_ok=True)
    got = run_cases(os.path.abspath(ssmflow), os.path.abspath(data), os.path.abspath(src),
                    dump_dir)
    level = cpu_level(os.path.abspath(ssmflow))
    primary = load(GOLDEN)
    primary_level = primary.pop(LEVEL_KEY, None)
    if mode == "update":
        return update(got, level, primary, primary_level)
    want = dict(primary)
    if level != primary_level:
        want.update(load(level_file(level)))
    failures = [k for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)]
    for k in failures:
        print(f"FAIL: {k}: {got.get(k, 'missing')} (golden: {want.get(k, 'missing')})")
    print(f"{len(got)} golden outputs checked on the {level} kernels, {len(failures)} differ")
    if failures and level != primary_level and not os.path.exists(level_file(level)):
        print(f"note: golden.json was made on the {primary_level} kernels and no "
              f"golden.{level}.json exists; see tests/golden/README.md")
    return 1 if failures else 0


def update(got, level, primary, primary_level):
    if primary_level in (None, level):
        for other in sorted(f for f in os.listdir(HERE)
                            if f.startswith("golden.") and f.count(".") == 2):
            path = os.path.join(HERE, other)
            overrides = load(path)
            # an output that changed on this level is stale on every other level
            kept = {k: v for k, v in overrides.items() if primary.get(k) == got.get(k)}
            if kept != overrides:
                print(f"{other}: dropped {len(overrides) - len(kept)} stale hashes; run "
                      "update on a machine of that level")
                if kept:
                    save(path, kept)
                else:
                    os.remove(path)
        save(GOLDEN, dict(got, **{LEVEL_KEY: level}))
        print(f"wrote {len(got)} hashes ({level} kernels) to {GOLDEN}")
        return 0
    overrides = {k: v for k, v in got.items() if primary.get(k) != v}
    save(level_file(level), overrides)
    print(f"wrote {len(overrides)} hashes that differ on the {level} kernels to "
          f"{level_file(level)}")
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
