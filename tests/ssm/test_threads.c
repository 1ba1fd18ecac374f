/* test_threads.c - forward and backward give bit-identical loss and gradients for 1, 2 and 3
 * threads (every reduction runs in a fixed order), and repeated runs are identical; for the
 * default config and for one with 512 heads of one channel (the paths for shapes beyond the
 * stack tables of the fast kernels). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/ssm.h"
#include "testutil.h"

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
		len[b] = 1 + (int)(tu_u32() % T);
		lab[b] = (int8_t)(b % 3 - 1);
		tu_random_flow(rec + (size_t)b * T, len[b], (uint32_t)b);
	}
	size_t np = ssmf_model_num_params(m);
	ssmf_real *ref = malloc(np * sizeof(ssmf_real));
	double ref_loss = 0;
	int fail = 0;
	int threads[] = {1, 2, 3, 2};
	for (int i = 0; i < 4; i++) {
		ssmf_set_threads(threads[i]);
		struct ssmf_acts *a = ssmf_acts_new(m, B, T, err, sizeof err);
		struct ssmf_batch batch = {rec, len, lab, B, T, 0.3};
		struct ssmf_outputs out;
		ssmf_zero_grad(m);
		if (!a || ssmf_forward(m, a, &batch, &out, err, sizeof err) < 0 ||
		    ssmf_backward(m, a, err, sizeof err) < 0) {
			printf("%s\n", err);
			return 1;
		}
		if (i == 0) {
			memcpy(ref, ssmf_model_grads(m), np * sizeof(ssmf_real));
			ref_loss = out.loss;
		}
		int same = out.loss == ref_loss &&
		           !memcmp(ref, ssmf_model_grads(m), np * sizeof(ssmf_real));
		same = same && out.loss == out.loss;
		printf("%s, threads %d: loss %.9f, gradients %s\n", what, threads[i], out.loss,
		       same ? "bit-identical to 1 thread" : "DIFFER or NaN (FAIL)");
		fail |= !same;
		ssmf_acts_free(a);
	}
	free(ref);
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
