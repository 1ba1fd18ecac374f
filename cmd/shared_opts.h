/* shared_opts.h - the options extract and score share: the flow table's settings and the
 * label sources, as rows of their option tables (cmd/options.h), so both commands take
 * them alike. */
#ifndef SSMF_SHARED_OPTS_H
#define SSMF_SHARED_OPTS_H

#include <math.h>
#include <stddef.h>

#include "cmd/options.h"
#include "datasets/labels.h"
#include "features/flowtable.h"

/* Rows for an options struct T whose member `fp` is a struct ssmf_flow_params, in the
 * order extract keeps them in a dataset's metadata; extract adds its own between them. */
#define SSMF_FLOW_TIMEOUT_ROWS(T, fp)                                                              \
	{.name = "idle-timeout",                                                                   \
	 .arg = "SEC",                                                                             \
	 .type = SSMF_OPT_SECONDS,                                                                 \
	 .offset = offsetof(T, fp.idle_timeout_ns),                                                \
	 .help = "end a flow after SEC seconds without packets",                                   \
	 .note = "0 never",                                                                        \
	 .key = "idle_timeout_s"},                                                                 \
	    {.name = "active-timeout",                                                             \
	     .arg = "SEC",                                                                         \
	     .type = SSMF_OPT_SECONDS,                                                             \
	     .offset = offsetof(T, fp.active_timeout_ns),                                          \
	     .help = "end a flow SEC seconds after its first packet",                              \
	     .note = "0 never",                                                                    \
	     .key = "active_timeout_s"},                                                           \
	{                                                                                          \
		.name = "tcp-close", .arg = "yes|no", .type = SSMF_OPT_BOOL,                       \
		.offset = offsetof(T, fp.tcp_close),                                               \
		.help = "end TCP flows on RST or FIN in both directions", .key = "tcp_close"       \
	}
#define SSMF_FLOW_TABLE_ROWS(T, fp)                                                                \
	{.name = "memory-cap",                                                                     \
	 .arg = "SIZE",                                                                            \
	 .type = SSMF_OPT_BYTES,                                                                   \
	 .offset = offsetof(T, fp.memory_cap_bytes),                                               \
	 .lo = 1 << 20,                                                                            \
	 .hi = INFINITY,                                                                           \
	 .help = "flow table memory cap, e.g. 512M, 2G; least recently active flows are evicted "  \
	         "above it",                                                                       \
	 .key = "memory_cap_bytes"},                                                               \
	{                                                                                          \
		.name = "community-id-seed", .arg = "N", .type = SSMF_OPT_U16,                     \
		.offset = offsetof(T, fp.community_id_seed), .lo = 0, .hi = UINT16_MAX,            \
		.help = "seed of each flow's Community ID", .key = "community_id_seed"             \
	}

struct ssmf_label_args {
	struct ssmf_label_opts opts;
	struct ssmf_opt_list files, rules, globs;
};

/* Rows for an options struct T whose member `la` is a struct ssmf_label_args. */
#define SSMF_LABEL_ROWS(T, la)                                                                     \
	{.name = "labels",                                                                         \
	 .arg = "FILE",                                                                            \
	 .type = SSMF_OPT_LIST,                                                                    \
	 .offset = offsetof(T, la.files),                                                          \
	 .help = "ground truth: native CSV, CICFlowMeter CSV or Zeek conn.log (repeatable)"},      \
	    {.name = "label-rule",                                                                 \
	     .arg = "N=EXPR",                                                                      \
	     .type = SSMF_OPT_LIST,                                                                \
	     .offset = offsetof(T, la.rules),                                                      \
	     .help = "label flows matching a BPF expression N (repeatable)"},                      \
	    {.name = "label-input",                                                                \
	     .arg = "N=GLOB",                                                                      \
	     .type = SSMF_OPT_LIST,                                                                \
	     .offset = offsetof(T, la.globs),                                                      \
	     .help = "label flows starting in inputs matching GLOB (repeatable)"},                 \
	    {.name = "label-slack",                                                                \
	     .arg = "SEC",                                                                         \
	     .type = SSMF_OPT_F64,                                                                 \
	     .offset = offsetof(T, la.opts.slack_s),                                               \
	     .lo = 0,                                                                              \
	     .hi = INFINITY,                                                                       \
	     .help = "only label-file rows whose time window overlaps the flow's within SEC",      \
	     .def = "times are ignored"},                                                          \
	    {.name = "label-utc-offset",                                                           \
	     .arg = "H",                                                                           \
	     .type = SSMF_OPT_F64,                                                                 \
	     .offset = offsetof(T, la.opts.utc_offset_h),                                          \
	     .lo = -14,                                                                            \
	     .hi = 14,                                                                             \
	     .help = "CICFlowMeter local time is UTC+H, e.g. -3"},                                 \
	{                                                                                          \
		.name = "label-mdy", .type = SSMF_OPT_FLAG, .offset = offsetof(T, la.opts.mdy),    \
		.help = "CICFlowMeter dates are month/day/year"                                    \
	}

void ssmf_label_args_init(struct ssmf_label_args *a);
int ssmf_label_args_given(const struct ssmf_label_args *a);

/* The label set the arguments name (loaded, compiled). NULL on failure, with *code the exit
 * code (an unreadable label file is bad input, a bad rule a usage error) and the error
 * reported. */
struct ssmf_labels *ssmf_labels_from_args(const char *cmd, const struct ssmf_label_args *a,
                                          int *code);

#endif
