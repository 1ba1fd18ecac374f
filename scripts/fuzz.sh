#!/bin/sh
# Runs every libFuzzer target for a bounded time under ASan+UBSan.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30; or FUZZ_SECONDS)
# Builds build-fuzz with clang (-DSSMF_FUZZ=ON -DSSMF_SANITIZE=ON), seeds the
# corpora from ../shared/data and from files the build writes, then fuzzes each
# target in turn. The corpora grow in build-fuzz/corpus/ across runs. A crash,
# leak, timeout or out-of-memory leaves its input in build-fuzz/artifacts/ and
# fails the script: add that input to tests/fuzz/regressions/<target>/ (replayed
# by CTest in every build) together with the fix.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-${FUZZ_SECONDS:-30}}
data=${SSMF_DATA:-$(pwd)/../shared/data}
jobs=$(nproc)
CC=${FUZZ_CC:-clang} cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSSMF_FUZZ=ON -DSSMF_SANITIZE=ON -DSSMF_CUDA=OFF >/dev/null
targets="decode capture flowtable dataset"
[ -f datasets/labels.c ] && targets="$targets labels"
[ -f ssm/CMakeLists.txt ] && targets="$targets checkpoint"
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
	mkdir -p "build-fuzz/corpus/$t"
	log="build-fuzz/artifacts/$t.log"
	echo "fuzz_$t: ${secs}s"
	# -max_len: whole small captures and structured inputs fit; the regressions
	# and seeds are read from both directories, new inputs go to corpus/.
	if ! build-fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=20000 -print_final_stats=1 \
		-artifact_prefix="build-fuzz/artifacts/$t-" \
		"build-fuzz/corpus/$t" "build-fuzz/seeds/$t" "tests/fuzz/regressions/$t" \
		>"$log" 2>&1; then
		failed="$failed $t"
		grep -E "ERROR|SUMMARY|invariant" "$log" | head -5
	fi
	grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed "s/^/  /"
done
if [ -n "$failed" ]; then
	echo "fuzz: failures in:$failed (inputs in build-fuzz/artifacts/)"
	exit 1
fi
echo "fuzz: no crash in $targets"
