/* labels_internal.h - what the label file parsers (label_files.c) add to the label table
 * (labels.c); not for other layers. */
#ifndef SSMF_LABELS_INTERNAL_H
#define SSMF_LABELS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/labels.h"

/* One labelled row of a label file, as parsed. */
struct ssmf_label_row {
	uint8_t src[16], dst[16]; /* addresses, IPv4 in the first 4 bytes */
	uint16_t sport, dport;
	uint8_t proto;
	int wild_ports; /* no ports given: any port matches */
	int has_window; /* start_ns..end_ns is known */
	int64_t start_ns, end_ns;
	const char *label; /* the name, copied into the table */
};

/* Adds the row's entry (either direction matches); -1: out of memory. */
int ssmf_labels_add_entry(struct ssmf_labels *l, const struct ssmf_label_row *r);
size_t ssmf_labels_nentries(const struct ssmf_labels *l);
const struct ssmf_label_opts *ssmf_labels_opts(const struct ssmf_labels *l);

#endif
