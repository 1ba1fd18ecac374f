/* labels.h - ground truth joined to flows.
 *
 * Sources, in order of precedence: label files (native CSV, CICFlowMeter CSV,
 * Zeek conn.log with a label column; the format is recognised from the header),
 * BPF rules ("NAME=EXPR", compiled by libpcap and run on a packet built from the
 * flow's key, initiator to responder), and input globs ("NAME=GLOB": every flow
 * that starts in an input whose path matches). A file entry matches a flow by
 * protocol and endpoints (either direction); when several do, the one whose
 * start is nearest the flow's first packet wins; with a time slack set, only
 * entries whose time window overlaps the flow's (± slack) count.
 */
#ifndef SSMF_LABELS_H
#define SSMF_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "features/flow_summary.h"

struct ssmf_label_opts {
	double slack_s;      /* < 0: ignore time windows (default) */
	double utc_offset_h; /* CICFlowMeter timestamps are local time: hours east of UTC */
	int mdy;             /* CICFlowMeter dates month/day/year (default day/month/year) */
};

void ssmf_label_opts_default(struct ssmf_label_opts *o);

struct ssmf_labels;

struct ssmf_labels *ssmf_labels_new(const struct ssmf_label_opts *o);
void ssmf_labels_free(struct ssmf_labels *l);
/* Loads a label file; -1 with "FILE:LINE: reason" in err. */
int ssmf_labels_load(struct ssmf_labels *l, const char *path, char *err, size_t errlen);
/* "NAME=BPF expression"; -1 with the reason in err. */
int ssmf_labels_add_rule(struct ssmf_labels *l, const char *spec, char *err, size_t errlen);
/* "NAME=GLOB" over input paths (fnmatch(3)). */
int ssmf_labels_add_input_glob(struct ssmf_labels *l, const char *spec, char *err, size_t errlen);
/* Whether any source was given. */
int ssmf_labels_active(const struct ssmf_labels *l);
/* The label id for a flow (input: the path it started in, or NULL), or SSMF_LABEL_NONE. */
int32_t ssmf_labels_lookup(const struct ssmf_labels *l, const struct ssmf_flow_summary *s,
                           const char *input);
size_t ssmf_labels_count(const struct ssmf_labels *l);
const char *ssmf_labels_name(const struct ssmf_labels *l, int32_t id);
/* The id of a label name, added if new (-1: out of memory). */
int32_t ssmf_labels_intern(struct ssmf_labels *l, const char *name);
/* The name table, for /label_names in a dataset. */
const char *const *ssmf_labels_names(const struct ssmf_labels *l);

/* "benign", "normal", "background", "legitimate" (any case, whole name) are the negative
 * class: the one predicate training and score's evaluation use. */
int ssmf_label_is_benign(const char *name);

#endif
