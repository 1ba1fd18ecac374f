/* evidence_fit.c - the evidence baseline from the validation flows (evidence_fit.h). */
#include <stdio.h>
#include <string.h>

#include "train/batcher.h"
#include "train/evidence_fit.h"
#include "train/flowset.h"
#include "train/split.h"

int train_evidence_fit(const struct train_opts *o, const char *model_path, struct ssmf_evidence *e,
                       char *err, size_t errlen)
{
	memset(e, 0, sizeof *e);
	struct train_flowset fs = {0};
	struct train_split split = {0};
	struct train_batcher b = {0};
	struct ssmf_acts *acts = NULL;
	int val = o->n_val > 0, rc = TRAIN_E_INTERNAL;
	struct ssmf_model *m = ssmf_checkpoint_load(model_path, err, errlen);
	if (!m)
		return TRAIN_E_INPUT;
	int max_len = o->hp.max_len, B = o->hp.batch_size;
	if (train_flowset_load(&fs, val ? o->val_paths : o->train_paths,
	                       val ? o->n_val : o->n_train, max_len, err, errlen) < 0) {
		rc = TRAIN_E_INPUT;
		goto out;
	}
	if ((val ? train_split_all(&fs, 1, &split)
	         : train_split_by_time(&fs, o->hp.val_fraction, &split)) < 0)
		goto oom;
	const uint32_t *idx = split.n_val ? split.val : split.train;
	size_t n = split.n_val ? split.n_val : split.n_train;
	if (train_batcher_init(&b, &fs, idx, n, B, max_len) < 0 ||
	    !(acts = ssmf_acts_new_infer(m, B, max_len, err, errlen)))
		goto oom;
	train_batcher_plan_fixed(&b);
	struct ssmf_evidence_fit fit = {0};
	for (size_t i = 0; i < b.n_batches; i++) {
		struct ssmf_batch batch;
		struct ssmf_outputs out;
		train_batcher_get(&b, i, 0, &batch);
		if (ssmf_infer(m, acts, &batch, &out, err, errlen) < 0)
			goto out;
		for (int k = 0; k < batch.B; k++)
			if (batch.len[k] > 1)
				ssmf_evidence_fit_add(&fit, out.score[k], batch.len[k] - 1);
	}
	/* too few validation flows (or all alike): no baseline, the model scores without it */
	if (ssmf_evidence_fit_done(&fit, e) < 0 || e->flows < SSMF_EVIDENCE_MIN_FLOWS)
		memset(e, 0, sizeof *e);
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	ssmf_acts_free(acts);
	train_batcher_free(&b);
	train_split_free(&split);
	train_flowset_free(&fs);
	ssmf_model_free(m);
	return rc;
}
