#!/bin/sh
# train-default-model.sh - rebuilds models/default.ssmf, the model `ssmflow score` uses
# when no --model is given, from public traffic with a fixed seed.
#
#   scripts/train-default-model.sh [BUILD_DIR] [DATA_DIR] [OUT]
#
# Data: the nDPI test captures (ntop/nDPI @ 3b1286a, tests/cfgs/default/pcap, LGPL-3.0),
# minus every capture whose name says it is not normal traffic: fuzzed or malformed
# files, malware and bots, attacks and exploits, scans, DNS/ICMP tunnels and
# exfiltration. The captures used are listed in models/default.inputs (their
# SHA-256s are in the model's META section), the training log in models/default.train.jsonl.
# Determinism: same data, seed and thread count give the same file bit for bit
# (SOURCE_DATE_EPOCH pins the date in the metadata).
set -eu

BUILD=${1:-build}
DATA=${2:-$(dirname "$0")/../../shared/data}
OUT=${3:-$(dirname "$0")/../models/default.ssmf}
SSMFLOW=$BUILD/ssmflow
PCAPS=$DATA/traffic/nDPI/tests/cfgs/default/pcap

# Names that say attack, exploit, scan, fuzzing, malformed input, malware or tunnel abuse:
# models/not-normal.txt (bench/detection reads the same list).
EXCLUDE=$(grep -v '^#' "$(dirname "$0")/../models/not-normal.txt" | cut -f2 | paste -sd'|')

SSMFLOW=$(cd "$(dirname "$SSMFLOW")" && pwd)/$(basename "$SSMFLOW")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ls "$PCAPS" | grep -E '\.(pcap|pcapng|cap)$' | grep -viE "$EXCLUDE" | LC_ALL=C sort >"$WORK/inputs"
echo "train-default-model: $(wc -l <"$WORK/inputs") captures of $(ls "$PCAPS" | wc -l)" >&2

# One dataset per capture: the captures come from different networks and years, and one
# extract over all of them would see time jump back and forth between files. Flows up to
# 256 packets are what the model sees; keep the datasets that small. Exit code 3 (a
# damaged capture, the packets before the damage kept) is fine here.
mkdir "$WORK/ds"
while read -r f; do
	rc=0
	"$SSMFLOW" extract -q --max-packets 256 -o "$WORK/ds/$f.h5" "$PCAPS/$f" 2>/dev/null || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
		echo "train-default-model: extract $f failed ($rc)" >&2
		exit 1
	fi
done <"$WORK/inputs"

# SOURCE_DATE_EPOCH pins the date in the metadata: same data, same file.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600} # 2026-01-01T00:00:00Z
(cd "$WORK/ds" && "$SSMFLOW" train --seed 1 --threads 2 --epochs 15 --patience 3 \
	--batch-size 32 --max-len 256 --lr 3e-3 --warmup 100 \
	--log-json "$WORK/train.jsonl" -o "$WORK/default.ssmf" $(sed 's/$/.h5/' "$WORK/inputs"))
cp "$WORK/default.ssmf" "$OUT"
cp "$WORK/inputs" "$(dirname "$OUT")/default.inputs"
# the per-epoch losses (the step lines are many and say little more)
grep -v '"event":"step"' "$WORK/train.jsonl" >"$(dirname "$OUT")/default.train.jsonl"
