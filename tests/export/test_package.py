#!/usr/bin/env python3
"""python/ as a pip package: installed into a fresh venv (Debian's torch and numpy through
--system-site-packages; no network: --no-index, the system's setuptools), it imports from
the venv, not the source tree, and its command-line entry point scores a real capture's
record stream under a real export of the bundled model as `ssmflow score` does (per flow,
the packet level: f32 tolerance of test_export.py).

usage: test_package.py SSMFLOW SRC DATA
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

CAPTURE = "traffic/nDPI/tests/cfgs/default/pcap/1kxun.pcap"
TOL_F32 = 1e-4  # as tests/export/test_export.py


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(*cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited {p.returncode}: {(p.stderr or p.stdout).strip()[-800:]}")
    return p


def main(ssmflow, src, data):
    with tempfile.TemporaryDirectory(prefix="ssmflow-test-") as td:
        # from a copy: a build writes egg-info and build/ beside the sources
        pkg = shutil.copytree(os.path.join(src, "python"), os.path.join(td, "python"),
                              ignore=shutil.ignore_patterns("__pycache__", "*.egg-info",
                                                            "build"))
        venv = os.path.join(td, "venv")
        run("/usr/bin/python3", "-m", "venv", "--system-site-packages", venv)
        py, bindir = os.path.join(venv, "bin", "python"), os.path.join(venv, "bin")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        run(py, "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation", pkg,
            env=env)
        where = run(py, "-c", "import ssmflow_consumer; print(ssmflow_consumer.__file__)",
                    cwd=td, env=env).stdout.strip()
        if not where.startswith(venv):
            fail(f"ssmflow_consumer imported from {where}, not from the venv")
        exe = os.path.join(bindir, "ssmflow-consumer")
        if not os.access(exe, os.X_OK):
            fail("pip install gave no ssmflow-consumer entry point")
        run(exe, "--help", env=env)

        bundle, recs = os.path.join(td, "m.safetensors"), os.path.join(td, "c.recs")
        ref_out, got_out = os.path.join(td, "ref.jsonl"), os.path.join(td, "got.jsonl")
        cap = os.path.join(data, CAPTURE)
        run(ssmflow, "export", os.path.join(src, "models", "default.ssmf"), "-o", bundle)
        run(ssmflow, "extract", "-q", "--records", recs, cap)
        run(ssmflow, "score", "-q", "-o", ref_out, cap)
        run(exe, bundle, recs, "--mode", "sequence", "-o", got_out, env=env, cwd=td)
        ref = {o["flow_id"]: o for o in map(json.loads, open(ref_out))}
        got = [json.loads(line) for line in open(got_out)]
        if len(got) != len(ref):
            fail(f"the installed consumer scored {len(got)} flows, ssmflow score {len(ref)}")
        worst = max(abs(o["score"] - ref[o["flow_id"]]["packet_score"]) for o in got)
        if worst > TOL_F32:
            fail(f"installed consumer vs ssmflow score: max difference {worst} > {TOL_F32}")
        print(f"pip install ./python into a venv: import from {os.path.relpath(where, td)}; "
              f"ssmflow-consumer on {len(got)} flows of {os.path.basename(cap)}: max "
              f"|consumer - ssmflow score| {worst:.3g}")
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3]))
