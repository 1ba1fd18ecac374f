#!/bin/sh
# Runs every libFuzzer target for a bounded time under ASan+UBSan.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 30 s; or FUZZ_SECONDS)
# Builds build-fuzz with clang (-DSSMF_FUZZ=ON -DSSMF_SANITIZE=ON), seeds the
# corpora from ../shared/data and from files the build writes, then fuzzes each
# target in turn, resuming from what earlier runs found: build-fuzz/corpus/<target>/
# (the work corpus, outside the repo; new inputs go there) plus the repo's
# minimized tests/fuzz/corpus/<target>/, the fresh seeds and the regressions.
# FUZZ_MERGE=1 then merges the work corpus with -merge=1 into
# build-fuzz/merged/<target>/ (a minimized copy; copy it into the repo by hand
# only when it is small). A crash, leak, timeout or out-of-memory leaves its
# input in build-fuzz/artifacts/ and fails the script: add that input to
# tests/fuzz/regressions/<target>/ (replayed by CTest in every build) together
# with the fix. FUZZ_JOBS sets the build's parallelism (default: nproc).
set -eu
cd "$(dirname "$0")/.."
secs=${1:-${FUZZ_SECONDS:-30}}
[ $# -gt 0 ] && shift
data=${SSMF_DATA:-$(pwd)/../shared/data}
jobs=${FUZZ_JOBS:-$(nproc)}
CC=${FUZZ_CC:-clang} cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSSMF_FUZZ=ON -DSSMF_SANITIZE=ON -DSSMF_CUDA=OFF >/dev/null
if [ $# -gt 0 ]; then
	targets="$*"
else
	targets="decode capture pcapng flowtable dataset"
	[ -f datasets/labels.c ] && targets="$targets labels label_rules"
	[ -f ssm/CMakeLists.txt ] && targets="$targets checkpoint"
	[ -f export/st_read.c ] && targets="$targets safetensors"
fi
build=""
for t in $targets; do build="$build fuzz_$t"; done
[ -f ssm/CMakeLists.txt ] && build="$build make_seed_checkpoint"
# shellcheck disable=SC2086
cmake --build build-fuzz -j"$jobs" --target $build
maker=""
[ -f ssm/CMakeLists.txt ] && maker=build-fuzz/tests/fuzz/make_seed_checkpoint
rm -rf build-fuzz/seeds build-fuzz/artifacts
mkdir -p build-fuzz/artifacts
/usr/bin/python3 tests/fuzz/seed_corpus.py build-fuzz/seeds "$data" $maker
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=""
for t in $targets; do
	mkdir -p "build-fuzz/corpus/$t" "build-fuzz/seeds/$t" "tests/fuzz/corpus/$t" \
		"tests/fuzz/regressions/$t"
	log="build-fuzz/artifacts/$t.log"
	echo "fuzz_$t: ${secs}s"
	# -max_len: whole small captures and structured inputs fit. The first
	# directory is where new inputs go; the others are only read.
	if ! build-fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=20000 -print_final_stats=1 \
		-artifact_prefix="build-fuzz/artifacts/$t-" \
		"build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" "build-fuzz/seeds/$t" \
		"tests/fuzz/regressions/$t" >"$log" 2>&1; then
		failed="$failed $t"
		grep -E "ERROR|SUMMARY|invariant" "$log" | head -5
	fi
	grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed "s/^/  /"
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		rm -rf "build-fuzz/merged/$t"
		mkdir -p "build-fuzz/merged/$t"
		build-fuzz/tests/fuzz/fuzz_"$t" -merge=1 -timeout=10 -rss_limit_mb=2048 \
			-max_len=20000 -artifact_prefix="build-fuzz/artifacts/$t-merge-" \
			"build-fuzz/merged/$t" "build-fuzz/corpus/$t" \
			"tests/fuzz/corpus/$t" >"build-fuzz/artifacts/$t.merge.log" 2>&1 || true
		echo "  merged: $(ls "build-fuzz/merged/$t" | wc -l) inputs in build-fuzz/merged/$t"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: failures in:$failed (inputs in build-fuzz/artifacts/)"
	exit 1
fi
echo "fuzz: no crash in $targets"
