/* shared_opts.h - the options extract and score share: the flow table's settings and the
 * label sources, parsed and checked in one place so both commands take them alike. */
#ifndef SSMF_SHARED_OPTS_H
#define SSMF_SHARED_OPTS_H

#include <getopt.h>
#include <stddef.h>

#include "datasets/labels.h"
#include "features/flowtable.h"

/* getopt_long entries; their codes are reserved in every command that includes them. */
#define SSMF_FLOW_LONG_OPTIONS                                                                     \
	{"idle-timeout", required_argument, NULL, 'I'},                                            \
	    {"active-timeout", required_argument, NULL, 'A'},                                      \
	    {"tcp-close", required_argument, NULL, 'C'},                                           \
	    {"community-id-seed", required_argument, NULL, 'K'},                                   \
	{                                                                                          \
		"memory-cap", required_argument, NULL, 'M'                                         \
	}
#define SSMF_LABEL_LONG_OPTIONS                                                                    \
	{"labels", required_argument, NULL, 'L'}, {"label-rule", required_argument, NULL, 'R'},    \
	    {"label-input", required_argument, NULL, 'N'},                                         \
	    {"label-slack", required_argument, NULL, 'S'},                                         \
	    {"label-utc-offset", required_argument, NULL, 'U'},                                    \
	{                                                                                          \
		"label-mdy", no_argument, NULL, 'Y'                                                \
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
