/* state.c - training checkpoints through ssm's section API: one file format, the model
 * loader reads them as models, and the training state travels in extra sections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/state.h"

int train_state_save(const char *path, const struct ssmf_model *m, const struct train_tstate *st,
                     const struct ssmf_adamw *opt, const ssmf_real *best, const char *meta,
                     char *err, size_t errlen)
{
	size_t n = opt->n;
	float *moments = malloc(2 * n * sizeof *moments);
	if (!moments) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	memcpy(moments, opt->m, n * sizeof *moments);
	memcpy(moments + n, opt->v, n * sizeof *moments);
	struct ssmf_ckpt_section sec[] = {
	    {"META", (void *)meta, strlen(meta)},
	    {"TSTATE", (void *)st, sizeof *st},
	    {"OPTIM", moments, 2 * n * sizeof *moments},
	    {"BEST", (void *)best, n * sizeof *best},
	};
	int rc = ssmf_checkpoint_save_sections(path, m, sec, 4, err, errlen);
	free(moments);
	return rc;
}

int train_model_save(const char *path, const struct ssmf_model *m, const char *meta, char *err,
                     size_t errlen)
{
	struct ssmf_ckpt_section sec[] = {{"META", (void *)meta, strlen(meta)}};
	return ssmf_checkpoint_save_sections(path, m, sec, 1, err, errlen);
}

int train_state_load(const char *path, struct train_loaded *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct ssmf_ckpt_section sec[] = {
	    {"META", NULL, 0}, {"TSTATE", NULL, 0}, {"OPTIM", NULL, 0}, {"BEST", NULL, 0}};
	out->m = ssmf_checkpoint_load_sections(path, sec, 4, err, errlen);
	if (!out->m)
		return -1;
	size_t n = ssmf_model_num_params(out->m);
	const char *missing = !sec[0].data   ? "META"
	                      : !sec[1].data ? "TSTATE"
	                      : !sec[2].data ? "OPTIM"
	                      : !sec[3].data ? "BEST"
	                                     : NULL;
	if (missing) {
		snprintf(err, errlen,
		         "%s: no %s section: a model file, not a training checkpoint (resume from "
		         "the .ckpt file)",
		         path, missing);
		goto fail;
	}
	if (sec[1].size != sizeof out->st) {
		snprintf(err, errlen, "%s: TSTATE has %llu bytes, expected %zu", path,
		         (unsigned long long)sec[1].size, sizeof out->st);
		goto fail;
	}
	memcpy(&out->st, sec[1].data, sizeof out->st);
	if (out->st.version != TRAIN_TSTATE_VERSION || out->st.n_params != n) {
		snprintf(err, errlen,
		         "%s: training state version %llu for %llu parameters, this "
		         "build reads version %u",
		         path, (unsigned long long)out->st.version,
		         (unsigned long long)out->st.n_params, TRAIN_TSTATE_VERSION);
		goto fail;
	}
	if (sec[2].size != 2 * n * sizeof(float) || sec[3].size != n * sizeof(ssmf_real)) {
		snprintf(err, errlen, "%s: OPTIM or BEST has the wrong size", path);
		goto fail;
	}
	out->meta = realloc(sec[0].data, sec[0].size + 1);
	if (!out->meta) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	sec[0].data = NULL;
	out->meta[sec[0].size] = 0;
	out->moments = sec[2].data;
	out->best = sec[3].data;
	free(sec[1].data);
	return 0;
fail:
	for (int i = 0; i < 4; i++)
		free(sec[i].data);
	ssmf_model_free(out->m);
	memset(out, 0, sizeof *out);
	return -1;
}

void train_loaded_free(struct train_loaded *l)
{
	free(l->moments);
	free(l->best);
	free(l->meta);
	l->moments = NULL;
	l->best = NULL;
	l->meta = NULL;
}
