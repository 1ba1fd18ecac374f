#include "cmd/shared_opts.h"

#include <stdlib.h>

#include "cmd/cli.h"

int ssmf_label_args_init(struct ssmf_label_args *a, int argc)
{
	ssmf_label_opts_default(&a->opts);
	size_t n = argc > 0 ? (size_t)argc : 1;
	a->files = calloc(n, sizeof *a->files);
	a->rules = calloc(n, sizeof *a->rules);
	a->globs = calloc(n, sizeof *a->globs);
	a->nfiles = a->nrules = a->nglobs = 0;
	if (!a->files || !a->rules || !a->globs) {
		ssmf_label_args_free(a);
		return -1;
	}
	return 0;
}

void ssmf_label_args_free(struct ssmf_label_args *a)
{
	free(a->files);
	free(a->rules);
	free(a->globs);
	a->files = a->rules = a->globs = NULL;
}

int ssmf_label_args_given(const struct ssmf_label_args *a)
{
	return a->nfiles || a->nrules || a->nglobs;
}

int ssmf_shared_option(const char *cmd, int c, const char *arg, struct ssmf_flow_params *fp,
                       struct ssmf_label_args *la)
{
	char *end;
	switch (c) {
	case SSMF_OPT_IDLE_TIMEOUT:
		if (ssmf_parse_seconds_ns(arg, &fp->idle_timeout_ns))
			return ssmf_usage_error(cmd, "bad --idle-timeout '%s'", arg), -1;
		return 1;
	case SSMF_OPT_ACTIVE_TIMEOUT:
		if (ssmf_parse_seconds_ns(arg, &fp->active_timeout_ns))
			return ssmf_usage_error(cmd, "bad --active-timeout '%s'", arg), -1;
		return 1;
	case SSMF_OPT_TCP_CLOSE:
		if (ssmf_parse_bool(arg, &fp->tcp_close))
			return ssmf_usage_error(cmd, "bad --tcp-close '%s' (yes|no)", arg), -1;
		return 1;
	case SSMF_OPT_COMMUNITY_ID_SEED: {
		unsigned long v = strtoul(arg, &end, 10);
		if (!*arg || *end || *arg == '-' || v > UINT16_MAX)
			return ssmf_usage_error(cmd, "bad --community-id-seed '%s' (0..65535)",
			                        arg),
			       -1;
		fp->community_id_seed = (uint16_t)v;
		return 1;
	}
	case SSMF_OPT_MEMORY_CAP:
		if (ssmf_parse_size(arg, &fp->memory_cap_bytes) ||
		    fp->memory_cap_bytes < (1u << 20))
			return ssmf_usage_error(cmd, "bad --memory-cap '%s' (at least 1M)", arg),
			       -1;
		return 1;
	case SSMF_OPT_LABELS:
		la->files[la->nfiles++] = arg;
		return 1;
	case SSMF_OPT_LABEL_RULE:
		la->rules[la->nrules++] = arg;
		return 1;
	case SSMF_OPT_LABEL_INPUT:
		la->globs[la->nglobs++] = arg;
		return 1;
	case SSMF_OPT_LABEL_SLACK:
		la->opts.slack_s = strtod(arg, &end);
		if (*end || !(la->opts.slack_s >= 0))
			return ssmf_usage_error(cmd, "bad --label-slack '%s'", arg), -1;
		return 1;
	case SSMF_OPT_LABEL_UTC_OFFSET:
		la->opts.utc_offset_h = strtod(arg, &end);
		if (*end || !(la->opts.utc_offset_h >= -14 && la->opts.utc_offset_h <= 14))
			return ssmf_usage_error(cmd, "bad --label-utc-offset '%s'", arg), -1;
		return 1;
	case SSMF_OPT_LABEL_MDY:
		la->opts.mdy = 1;
		return 1;
	default:
		return 0;
	}
}

struct ssmf_labels *ssmf_labels_from_args(const char *cmd, const struct ssmf_label_args *a,
                                          int *code)
{
	char err[1024];
	struct ssmf_labels *l = ssmf_labels_new(&a->opts);
	if (!l) {
		ssmf_error("out of memory");
		*code = SSMF_EXIT_INTERNAL;
		return NULL;
	}
	for (size_t i = 0; i < a->nfiles; i++)
		if (ssmf_labels_load(l, a->files[i], err, sizeof err) != 0) {
			ssmf_error("%s", err);
			*code = SSMF_EXIT_INPUT;
			ssmf_labels_free(l);
			return NULL;
		}
	for (size_t i = 0; i < a->nrules + a->nglobs; i++) {
		int bad = i < a->nrules ? ssmf_labels_add_rule(l, a->rules[i], err, sizeof err)
		                        : ssmf_labels_add_input_glob(l, a->globs[i - a->nrules],
		                                                     err, sizeof err);
		if (bad) {
			*code = ssmf_usage_error(cmd, "%s", err);
			ssmf_labels_free(l);
			return NULL;
		}
	}
	return l;
}
