/* fuzz_labels.c - the label file parsers (native CSV, CICFlowMeter CSV, Zeek
 * conn.log; the format is recognised from the header) through
 * ssmf_labels_load, then a lookup of a few flows against what was loaded.
 * Input: the whole label file, in a memfd. */
#include <string.h>
#include <unistd.h>

#include "datasets/labels.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024] = "";
	int fd = fuzz_memfile(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct ssmf_label_opts o;
	ssmf_label_opts_default(&o);
	if (size && (data[0] & 1))
		o.slack_s = 5;
	struct ssmf_labels *l = ssmf_labels_new(&o);
	if (l && ssmf_labels_load(l, path, err, sizeof err) == 0) {
		struct ssmf_flow_summary s = {0};
		s.ip_version = 4;
		s.protocol = 6;
		s.src_addr[0] = 192, s.src_addr[1] = 168, s.src_addr[3] = 1;
		s.dst_addr[0] = 10, s.dst_addr[3] = 2;
		s.src_port = 40000;
		s.dst_port = 80;
		s.first_ts_ns = 1499000000ull * 1000000000ull;
		s.last_ts_ns = s.first_ts_ns + 1000000000ull;
		int32_t id = ssmf_labels_lookup(l, &s, path);
		FUZZ_CHECK(id == SSMF_LABEL_NONE || (id >= 0 && (size_t)id < ssmf_labels_count(l)));
		for (size_t i = 0; i < ssmf_labels_count(l); i++)
			FUZZ_CHECK(ssmf_labels_name(l, (int32_t)i) != NULL);
	} else if (l) {
		FUZZ_CHECK(err[0] != 0);
	}
	ssmf_labels_free(l);
	close(fd);
	return 0;
}
