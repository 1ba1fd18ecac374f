#!/usr/bin/env python3
"""cpack -G DEB: the package holds the binary, the man pages and the HDF5 zstd plugin in
the directory Debian's libhdf5 searches by default (h5py's h5pl.get(0), with
HDF5_PLUGIN_PATH unset, is the oracle), and declares the Debian packages of the shared
libraries the binary loads (ldd, then dpkg -S). Unpacked with dpkg -x into a temporary
root, its ssmflow runs (--version) and its plugin lets h5dump decode a dataset that h5dump
cannot read without it. As root with CI (or SSMF_TEST_SYSTEM_INSTALL=1) set, it is also
installed for real with dpkg -i, checked with no HDF5_PLUGIN_PATH at all, and purged.

usage: test_deb.py BUILD_DIR SSMFLOW SRC DATA
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

CAPTURE = "traffic/nDPI/tests/cfgs/default/pcap/dns_doh.pcap"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(*cmd, ok=(0,), **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode not in ok:
        fail(f"{' '.join(cmd)} exited {p.returncode}: {(p.stderr or p.stdout).strip()[-800:]}")
    return p


def no_plugin_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "HDF5_PLUGIN_PATH"}
    env.update(extra)
    return env


def hdf5_default_plugin_dir():
    code = "import h5py.h5pl as p; print(p.get(0).decode())"
    return run("/usr/bin/python3", "-c", code, env=no_plugin_env()).stdout.strip()


def packages_of_linked_libraries(binary):
    """The Debian packages that own the shared libraries `binary` links (its NEEDED
    entries, readelf; where they resolve, ldd)."""
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]",
                            run("readelf", "-d", binary).stdout))
    pkgs = set()
    for line in run("ldd", binary).stdout.splitlines():
        m = re.search(r"^\s*(\S+) => (/\S+)", line)
        if not m or m.group(1) not in needed:
            continue
        m = re.search(r"=> (/\S+)", line)
        p = subprocess.run(["dpkg", "-S", os.path.realpath(m.group(1))], capture_output=True,
                           text=True)
        if p.returncode != 0:  # e.g. a library installed outside dpkg
            p = subprocess.run(["dpkg", "-S", m.group(1)], capture_output=True, text=True)
        if p.returncode == 0:
            pkgs.add(p.stdout.split(":", 1)[0].strip())
    return pkgs


def h5dump_packets(dataset, env):
    """h5dump of /packets: (exit code, records printed)."""
    p = subprocess.run(["h5dump", "-d", "/packets", dataset], capture_output=True, text=True,
                       env=env)
    return p.returncode, len(re.findall(r"^\s*\(\d+\): \{", p.stdout, re.M))


def check_dataset_reads(ssmflow, data, td, plugin_env, what):
    ds = os.path.join(td, f"{what}.h5")
    run(ssmflow, "extract", "-q", "-o", ds, os.path.join(data, CAPTURE))
    info = run(ssmflow, "info", ds).stdout
    m = re.search(r"records \(rows of /packets\)\s+(\d+)", info)
    want = int(m.group(1)) if m else None
    rc, n = h5dump_packets(ds, plugin_env)
    if rc != 0 or n != want:
        fail(f"{what}: h5dump decoded {n} records (exit {rc}); ssmflow info says {want}")
    return ds, n


def main(build, ssmflow, src, data):
    with tempfile.TemporaryDirectory(prefix="ssmflow-test-") as td:
        run("cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"), "-B",
            os.path.join(td, "pkg"))
        debs = glob.glob(os.path.join(td, "pkg", "*.deb"))
        if len(debs) != 1:
            fail(f"cpack made {debs}, not one .deb")
        deb = debs[0]

        # Depends: every Debian package whose library the binary loads
        fields = run("dpkg-deb", "-f", deb).stdout
        depends = re.search(r"^Depends: (.*)$", fields, re.M)
        declared = {d.split()[0] for d in depends.group(1).split(", ")} if depends else set()
        needed = packages_of_linked_libraries(ssmflow)
        for lib in ("libpcap0.8", "libzstd1"):
            if lib not in needed:
                fail(f"ldd of ssmflow shows no {lib}: the oracle itself is off")
        if not needed <= declared:
            fail(f"the package does not depend on {sorted(needed - declared)}")

        # files: binary, plugin where libhdf5 looks, every man page
        files = {line.split()[-1].lstrip(".") for line in
                 run("dpkg-deb", "-c", deb).stdout.splitlines()}
        plugin_dir = hdf5_default_plugin_dir()
        want = {"/usr/bin/ssmflow", f"{plugin_dir}/libh5zstd.so"}
        for page in glob.glob(os.path.join(src, "man", "*.[15]")):
            name = os.path.basename(page)
            want.add(f"/usr/share/man/man{name[-1]}/{name}")
        if not want <= files:
            fail(f"the package lacks {sorted(want - files)}")

        # unpacked: the binary runs, the plugin decodes what h5dump cannot without it
        root = os.path.join(td, "root")
        run("dpkg-deb", "-x", deb, root)
        exe = os.path.join(root, "usr/bin/ssmflow")
        got, ref = run(exe, "--version").stdout, run(ssmflow, "--version").stdout
        if got != ref or not got.strip():
            fail(f"the packaged ssmflow --version says {got!r}, the build's {ref!r}")
        empty = os.path.join(td, "no-plugins")
        os.mkdir(empty)
        ds, n = check_dataset_reads(exe, data, td, no_plugin_env(
            HDF5_PLUGIN_PATH=root + plugin_dir), "unpacked")
        rc, _ = h5dump_packets(ds, no_plugin_env(HDF5_PLUGIN_PATH=empty))
        if rc == 0:
            fail("h5dump read /packets with no plugin: the check above proves nothing")
        print(f"{os.path.basename(deb)}: Depends covers {sorted(needed)}; plugin in "
              f"{plugin_dir}; unpacked ssmflow {got.strip()!r}; h5dump decoded {n} records "
              "through the packaged plugin (and none without it)")

        system_install(deb, data, td)
    print("ok")


def system_install(deb, data, td):
    allowed = os.environ.get("SSMF_TEST_SYSTEM_INSTALL") == "1" or os.environ.get("CI")
    if os.geteuid() != 0 or not allowed:
        print("dpkg -i skipped: it installs into the system (root with CI or "
              "SSMF_TEST_SYSTEM_INSTALL=1 runs it)")
        return
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "ssmflow"],
                            capture_output=True, text=True).stdout
    if status.strip():  # installed, or its configuration left behind: not ours to replace
        print("dpkg -i skipped: an ssmflow package is already installed")
        return
    run("dpkg", "-i", deb)
    try:
        run("/usr/bin/ssmflow", "--version")
        _, n = check_dataset_reads("/usr/bin/ssmflow", data, td, no_plugin_env(), "installed")
        code = ("import h5py, sys; f = h5py.File(sys.argv[1]); "
                "print(len(f['packets'][:]))")
        got = run("/usr/bin/python3", "-c", code, os.path.join(td, "installed.h5"),
                  env=no_plugin_env()).stdout.strip()
        if int(got) != n:
            fail(f"h5py read {got} records through the installed plugin, h5dump {n}")
        print(f"dpkg -i: /usr/bin/ssmflow runs; h5dump and h5py read {n} records with no "
              "HDF5_PLUGIN_PATH")
    finally:
        run("dpkg", "--purge", "ssmflow")


if __name__ == "__main__":
    main(*(os.path.abspath(a) for a in sys.argv[1:5]))
