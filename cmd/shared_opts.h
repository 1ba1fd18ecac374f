/* shared_opts.h - the options extract and score share: the flow table's settings and the
 * label sources, parsed and checked in one place so both commands take them alike. */
#ifndef SSMF_SHARED_OPTS_H
#define SSMF_SHARED_OPTS_H

#include <getopt.h>
#include <stddef.h>

#include "datasets/labels.h"
#include "features/flowtable.h"

/* The shared options' getopt_long codes: above every character, so that they cannot
 * collide with a command's own one-letter codes. */
enum ssmf_shared_opt {
	SSMF_OPT_IDLE_TIMEOUT = 256,
	SSMF_OPT_ACTIVE_TIMEOUT,
	SSMF_OPT_TCP_CLOSE,
	SSMF_OPT_COMMUNITY_ID_SEED,
	SSMF_OPT_MEMORY_CAP,
	SSMF_OPT_LABELS,
	SSMF_OPT_LABEL_RULE,
	SSMF_OPT_LABEL_INPUT,
	SSMF_OPT_LABEL_SLACK,
	SSMF_OPT_LABEL_UTC_OFFSET,
	SSMF_OPT_LABEL_MDY,
};

/* getopt_long entries. */
#define SSMF_FLOW_LONG_OPTIONS                                                                     \
	{"idle-timeout", required_argument, NULL, SSMF_OPT_IDLE_TIMEOUT},                          \
	    {"active-timeout", required_argument, NULL, SSMF_OPT_ACTIVE_TIMEOUT},                  \
	    {"tcp-close", required_argument, NULL, SSMF_OPT_TCP_CLOSE},                            \
	    {"community-id-seed", required_argument, NULL, SSMF_OPT_COMMUNITY_ID_SEED},            \
	{                                                                                          \
		"memory-cap", required_argument, NULL, SSMF_OPT_MEMORY_CAP                         \
	}
#define SSMF_LABEL_LONG_OPTIONS                                                                    \
	{"labels", required_argument, NULL, SSMF_OPT_LABELS},                                      \
	    {"label-rule", required_argument, NULL, SSMF_OPT_LABEL_RULE},                          \
	    {"label-input", required_argument, NULL, SSMF_OPT_LABEL_INPUT},                        \
	    {"label-slack", required_argument, NULL, SSMF_OPT_LABEL_SLACK},                        \
	    {"label-utc-offset", required_argument, NULL, SSMF_OPT_LABEL_UTC_OFFSET},              \
	{                                                                                          \
		"label-mdy", no_argument, NULL, SSMF_OPT_LABEL_MDY                                 \
	}

struct ssmf_label_args {
	struct ssmf_label_opts opts;
	const char **files, **rules, **globs; /* each up to argc entries */
	size_t nfiles, nrules, nglobs;
};

/* 0, or -1 when out of memory. */
int ssmf_label_args_init(struct ssmf_label_args *a, int argc);
void ssmf_label_args_free(struct ssmf_label_args *a);
int ssmf_label_args_given(const struct ssmf_label_args *a);

/* Handles one of the shared option codes: 1 handled, 0 not a shared option, -1 a bad value
 * (reported as a usage error of command `cmd`). */
int ssmf_shared_option(const char *cmd, int c, const char *arg, struct ssmf_flow_params *fp,
                       struct ssmf_label_args *la);

/* The label set the arguments name (loaded, compiled). NULL on failure, with *code the exit
 * code (an unreadable label file is bad input, a bad rule a usage error) and the error
 * reported. */
struct ssmf_labels *ssmf_labels_from_args(const char *cmd, const struct ssmf_label_args *a,
                                          int *code);

#endif
