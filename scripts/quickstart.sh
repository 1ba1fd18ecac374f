#!/bin/sh
# Quick start: install dependencies, build, then extract and score the bundled sample.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
build/ssmflow extract -o sample.h5 samples/sample.pcap
build/ssmflow score --top 10 samples/sample.pcap
