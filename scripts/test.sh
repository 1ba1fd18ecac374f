#!/bin/sh
# The whole test suite: the normal build, then every test again under ASan+UBSan.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
# The robustness corpus runs once, in the sanitizer build below, where it finds more.
ctest --test-dir build --output-on-failure -j"$jobs" -LE robustness
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSSMF_SANITIZE=ON -DSSMF_CUDA=OFF
cmake --build build-asan -j"$jobs"
# Tests labelled slow (the detection test over ~150k flows, the Python consumer) run in
# the normal build only: their C paths are the ones the other tests drive.
ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE slow
# libFuzzer targets, a bounded run each under ASan+UBSan (clang; scripts/fuzz.sh).
scripts/fuzz.sh "${FUZZ_SECONDS:-25}"
