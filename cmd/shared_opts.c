#include "cmd/shared_opts.h"

#include <string.h>

#include "cmd/cli.h"

void ssmf_label_args_init(struct ssmf_label_args *a)
{
	memset(a, 0, sizeof *a);
	ssmf_label_opts_default(&a->opts);
}

int ssmf_label_args_given(const struct ssmf_label_args *a)
{
	return a->files.n || a->rules.n || a->globs.n;
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
	for (size_t i = 0; i < a->files.n; i++)
		if (ssmf_labels_load(l, a->files.v[i], err, sizeof err) != 0) {
			ssmf_error("%s", err);
			*code = SSMF_EXIT_INPUT;
			ssmf_labels_free(l);
			return NULL;
		}
	for (size_t i = 0; i < a->rules.n + a->globs.n; i++) {
		int bad = i < a->rules.n ? ssmf_labels_add_rule(l, a->rules.v[i], err, sizeof err)
		                         : ssmf_labels_add_input_glob(l, a->globs.v[i - a->rules.n],
		                                                      err, sizeof err);
		if (bad) {
			*code = ssmf_usage_error(cmd, "%s", err);
			ssmf_labels_free(l);
			return NULL;
		}
	}
	return l;
}
