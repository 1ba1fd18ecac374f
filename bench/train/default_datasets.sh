# default_datasets.sh - sourced by the training benchmarks: with no dataset given ($# 0),
# extracts the default input (five nDPI captures, the train tests' set) into $tmp with
# $ssmflow and sets the positional parameters to the datasets. Needs $here, $tmp, $ssmflow.
if [ $# -eq 0 ]; then
	pcaps=$here/../../../shared/data/traffic/nDPI/tests/cfgs/default/pcap
	for c in 443-firefox dns_doh quic youtube_quic 1kxun; do
		"$ssmflow" extract -q -o "$tmp/$c.h5" "$pcaps/$c.pcap"
		set -- "$@" "$tmp/$c.h5"
	done
fi
