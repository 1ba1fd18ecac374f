/* first_records.c - each flow's first packet record (first_records.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/first_records.h"

#define WINDOW ((uint64_t)1 << 16)

int ssmf_dataset_first_records(struct ssmf_dataset *ds, struct ssmf_record *out, char *err,
                               size_t errlen)
{
	const struct ssmf_flow_summary *fl = ssmf_dataset_flows(ds);
	size_t n = (size_t)ssmf_dataset_nflows(ds);
	uint64_t total = ssmf_dataset_npackets(ds);
	struct ssmf_record *win = malloc(WINDOW * sizeof *win);
	if (!win) {
		snprintf(err, errlen, "%s: out of memory", ssmf_dataset_path(ds));
		return -1;
	}
	/* extract writes each flow's records contiguously and the flows mostly in /packets
	 * order; a flow outside the window moves it */
	uint64_t w0 = 0, w1 = 0;
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		uint64_t off = fl[i].packet_offset;
		if (fl[i].packet_count == 0 || off >= total)
			continue;
		if (off < w0 || off >= w1) {
			w0 = off;
			w1 = off + WINDOW < total ? off + WINDOW : total;
			if (ssmf_dataset_read_packets(ds, w0, w1 - w0, win, err, errlen) < 0) {
				free(win);
				return -1;
			}
		}
		out[i] = win[off - w0];
	}
	free(win);
	return 0;
}
