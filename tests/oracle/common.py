"""Shared helpers for the oracle tests: run ssmflow, read datasets with h5py."""
import os
import subprocess
import sys
import tempfile

import h5py


def env_with_plugin(build_dir):
    env = dict(os.environ)
    env["HDF5_PLUGIN_PATH"] = os.path.join(build_dir, "plugins")
    return env


def extract(ssmflow, inputs, out, *opts, check=True):
    """Runs `ssmflow extract`; returns the CompletedProcess."""
    cmd = [ssmflow, "extract", "-q", "-o", out, *opts, *inputs]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check and p.returncode not in (0, 3):
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p


def read_tsv(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def clean_captures(data, libpcap_tsv):
    """Captures that libpcap reads to the end cleanly (tcpdump -r exit 0)."""
    out = []
    for row in read_tsv(os.path.join(data, "reference", libpcap_tsv)):
        if row[1] == "0":
            out.append(row[0])
    return out


def tmpdir():
    return tempfile.TemporaryDirectory(prefix="ssmflow-test-")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)
