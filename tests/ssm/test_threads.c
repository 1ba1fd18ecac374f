/* test_threads.c - forward and backward give bit-identical loss and gradients for 1, 2 and 3
 * threads (every reduction runs in a fixed order), and repeated runs are identical; so does
 * the flow-by-flow ssmf_forward_backward, which also matches forward + backward to float
 * rounding; for the default config and for one with 512 heads of one channel (the paths for
 * shapes beyond the stack tables of the fast kernels). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/ssm.h"
#include "testutil.h"

/* Gradients of batch into m's gradient buffer, with fresh activations, at threads threads:
 * forward + backward, or (fused) ssmf_forward_backward. */
static int grads(struct ssmf_model *m, const struct ssmf_batch *batch, int threads, int fused,
                 struct ssmf_outputs *out, char *err, size_t errlen)
{
	ssmf_set_threads(threads);
	struct ssmf_acts *a = ssmf_acts_new(m, batch->B, batch->T, err, errlen);
	ssmf_zero_grad(m);
	int rc = !a      ? -1
	         : fused ? ssmf_forward_backward(m, a, batch, out, err, errlen)
	                 : (ssmf_forward(m, a, batch, out, err, errlen) < 0
	                        ? -1
	                        : ssmf_backward(m, a, err, errlen));
	ssmf_acts_free(a);
	return rc;
}

/* The logits of every flow's own rows equal (ssmf_infer leaves padding rows at 0). */
static int same_real_rows(const ssmf_real *x, const ssmf_real *y, const int *len, int B, int T)
{
	for (int b = 0; b < B; b++)
		if (memcmp(x + (size_t)b * T * SSMF_N_LOGITS, y + (size_t)b * T * SSMF_N_LOGITS,
		           (size_t)len[b] * SSMF_N_LOGITS * sizeof(ssmf_real)))
			return 0;
	return 1;
}

static int run(const struct ssmf_config *cfg, const char *what)
{
	char err[256];
	int B = 9, T = 50;
	struct ssmf_model *m = ssmf_model_new(cfg, 5, err, sizeof err);
	if (!m) {
		printf("%s: %s\n", what, err);
		return 1;
	}
	struct ssmf_record *rec = calloc((size_t)B * T, sizeof *rec);
	int len[9];
	int8_t lab[9];
	for (int b = 0; b < B; b++) {
		len[b] = b == 4 ? 0 : 1 + (int)(tu_u32() % T); /* flow 4: an empty slot */
		lab[b] = (int8_t)(b % 3 - 1);
		tu_random_flow(rec + (size_t)b * T, len[b], (uint32_t)b);
	}
	size_t np = ssmf_model_num_params(m);
	/* ref[0]: forward + backward at 1 thread; ref[1]: ssmf_forward_backward at 1 thread */
	ssmf_real *ref[2] = {malloc(np * sizeof(ssmf_real)), malloc(np * sizeof(ssmf_real))};
	double ref_loss[2] = {0, 0};
	int fail = 0;
	int threads[] = {1, 2, 3, 2};
	struct ssmf_batch batch = {rec, len, lab, B, T, 0.3, NULL};
	for (int fused = 0; fused < 2; fused++)
		for (int i = 0; i < 4; i++) {
			struct ssmf_outputs out;
			if (grads(m, &batch, threads[i], fused, &out, err, sizeof err) < 0) {
				printf("%s\n", err);
				return 1;
			}
			const ssmf_real *gr = ssmf_model_grads(m);
			const char *path = fused ? "forward_backward" : "forward + backward";
			if (i == 0) {
				memcpy(ref[fused], gr, np * sizeof(ssmf_real));
				ref_loss[fused] = out.loss;
			}
			if (i == 0 && fused) { /* flow by flow equals the batch path to rounding */
				double dmax = 0, rmax = 0;
				for (size_t k = 0; k < np; k++) {
					double dk = fabs((double)gr[k] - (double)ref[0][k]);
					dmax = dk > dmax ? dk : dmax;
					rmax = fabs((double)ref[0][k]) > rmax
					           ? fabs((double)ref[0][k])
					           : rmax;
				}
				double lrel = fabs(out.loss - ref_loss[0]) / fabs(ref_loss[0]);
				int close = dmax <= 1e-5 * rmax && lrel <= 1e-6 && out.n_pred > 0;
				printf(
				    "%s, %s vs forward + backward: loss rel. diff %.2e, gradients "
				    "max diff %.2e of max %.2e: %s\n",
				    what, path, lrel, dmax, rmax, close ? "ok" : "FAIL");
				fail |= !close;
			}
			int same = out.loss == ref_loss[fused] && out.loss == out.loss &&
			           !memcmp(ref[fused], gr, np * sizeof(ssmf_real));
			printf("%s, %s, threads %d: loss %.9f, gradients %s\n", what, path,
			       threads[i], out.loss,
			       same ? "bit-identical to 1 thread" : "DIFFER or NaN (FAIL)");
			fail |= !same;
		}
	/* inference flow by flow: ssmf_forward's outputs, bit-identical, for any thread count */
	ssmf_set_threads(1);
	struct ssmf_acts *fwd = ssmf_acts_new(m, B, T, err, sizeof err);
	struct ssmf_outputs ro;
	if (!fwd || ssmf_forward(m, fwd, &batch, &ro, err, sizeof err) < 0) {
		printf("%s\n", err);
		return 1;
	}
	for (int i = 0; i < 4; i++) {
		ssmf_set_threads(threads[i]);
		/* odd rounds: activations made for inference alone */
		struct ssmf_acts *a = i & 1 ? ssmf_acts_new_infer(m, B, T, err, sizeof err)
		                            : ssmf_acts_new(m, B, T, err, sizeof err);
		struct ssmf_outputs out;
		if (!a || ssmf_infer(m, a, &batch, &out, err, sizeof err) < 0) {
			printf("%s\n", err);
			return 1;
		}
		size_t bt = (size_t)B * T;
		int same = out.loss == ro.loss && out.n_pred == ro.n_pred &&
		           !memcmp(out.nll, ro.nll, bt * SSMF_N_COMP * sizeof(ssmf_real)) &&
		           same_real_rows(out.logits, ro.logits, batch.len, B, T) &&
		           !memcmp(out.score, ro.score, (size_t)B * sizeof(ssmf_real)) &&
		           !memcmp(out.score_comp, ro.score_comp,
		                   (size_t)B * SSMF_N_COMP * sizeof(ssmf_real)) &&
		           !memcmp(out.cls_logit, ro.cls_logit, (size_t)B * sizeof(ssmf_real));
		int refused = ssmf_backward(m, a, err, sizeof err) < 0;
		if (i & 1) { /* nor does a forward run on inference-only activations */
			struct ssmf_outputs o2;
			refused = refused && ssmf_forward(m, a, &batch, &o2, err, sizeof err) < 0 &&
			          ssmf_forward_backward(m, a, &batch, &o2, err, sizeof err) < 0;
		}
		printf("%s, infer%s, threads %d: outputs %s; a backward after it %s\n", what,
		       i & 1 ? " (inference-only activations)" : "", threads[i],
		       same ? "bit-identical to forward" : "DIFFER (FAIL)",
		       refused ? "is refused" : "RAN (FAIL)");
		fail |= !same || !refused;
		ssmf_acts_free(a);
	}
	ssmf_acts_free(fwd);
	free(ref[0]);
	free(ref[1]);
	free(rec);
	ssmf_model_free(m);
	return fail;
}

int main(void)
{
	struct ssmf_config def, wide;
	ssmf_config_default(&def);
	wide = def;
	wide.expand = 8;
	wide.headdim = 1; /* 512 heads */
	int fail = run(&def, "default config");
	fail |= run(&wide, "512 heads");
	printf(fail ? "threads: FAILED\n" : "threads: all passed\n");
	return fail;
}
