#!/bin/sh
# Installs what ssmflow needs to build and test on Debian 12 / Ubuntu 22.04+. chromium and
# python3-pil: the report's browser test (tests/score/test_report.py); python3-venv: the
# Python package's install test.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
	build-essential cmake pkg-config ca-certificates \
	libopenmpi-dev openmpi-bin \
	libpcap-dev libhdf5-dev hdf5-tools libzstd-dev zstd zlib1g-dev libssl-dev libcjson-dev \
	tshark time python3 python3-pip python3-h5py python3-numpy python3-torch python3-sklearn \
	clang libclang-rt-14-dev libopenblas0-pthread \
	chromium python3-pil python3-venv
# The official safetensors reader, for the export tests (tests/export); Debian has no package.
# The tests run Debian's /usr/bin/python3 (with its torch, h5py, numpy), not whatever
# python3 comes first on PATH.
/usr/bin/python3 -m pip install -q --break-system-packages safetensors==0.4.5 python-pcapng==2.1.1
# the Community ID oracle (corelight's implementation of the spec)
/usr/bin/python3 -m pip install -q --break-system-packages communityid==1.5.0
