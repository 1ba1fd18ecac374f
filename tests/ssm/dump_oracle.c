/* dump_oracle.c - runs the C model (float) on a fixed batch and dumps everything the
 * PyTorch oracle (test_torch_oracle.py) needs: config, parameters, the raw records,
 * outputs, loss and every parameter gradient. Usage: ssm_dump_oracle OUT.bin
 *
 * Layout (little-endian): "SSMFORCL", i32 version 1, i32 d_model n_layer d_state expand
 * headdim B T, i64 n_params, f64 sup_weight, records (B*T*32 bytes), i32 len[B],
 * i8 label[B], f32 params, f32 logits (B,T,42), f32 nll (B,T,4), f32 score (B),
 * f32 score_comp (B,4), f32 cls (B), f64 loss, f32 grads.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ssm/ssm.h"
#include "testutil.h"

static int wr(FILE *f, const void *p, size_t sz, size_t n)
{
	return fwrite(p, sz, n, f) == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	char err[256];
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT.bin\n", argv[0]);
		return 2;
	}
	struct ssmf_config cfg;
	ssmf_config_default(&cfg);
	int B = 5, T = 40;
	struct ssmf_model *m = ssmf_model_new(&cfg, 1234, err, sizeof err);
	struct ssmf_acts *a = m ? ssmf_acts_new(m, B, T, err, sizeof err) : NULL;
	if (!a) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* move off the init so every gradient path is exercised with generic values */
	ssmf_real *p = ssmf_model_params(m);
	for (size_t i = 0; i < ssmf_model_num_params(m); i++)
		p[i] += (ssmf_real)(0.05 * (2 * tu_unif() - 1));
	struct ssmf_record *rec = calloc((size_t)B * T, sizeof *rec);
	int len[5] = {40, 17, 2, 1, 33};
	int8_t lab[5] = {1, 0, -1, 1, 0};
	for (int b = 0; b < B; b++)
		tu_random_flow(rec + (size_t)b * T, len[b], (uint32_t)b);
	struct ssmf_batch batch = {rec, len, lab, B, T, 0.7, NULL};
	/* the paths the commands run: outputs as score computes them (ssmf_infer), loss and
	 * gradients as train does (ssmf_forward_backward); ssmf_forward and ssmf_backward are
	 * held to these by ssm.deterministic_threads and to finite differences by ssm.gradcheck */
	struct ssmf_outputs out, step;
	struct ssmf_acts *ai = ssmf_acts_new_infer(m, B, T, err, sizeof err);
	ssmf_zero_grad(m);
	if (!ai || ssmf_infer(m, ai, &batch, &out, err, sizeof err) < 0 ||
	    ssmf_forward_backward(m, a, &batch, &step, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	out.loss = step.loss;
	FILE *f = fopen(argv[1], "wb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	int32_t hdr[8] = {1, cfg.d_model, cfg.n_layer, cfg.d_state, cfg.expand, cfg.headdim, B, T};
	int64_t np = (int64_t)ssmf_model_num_params(m);
	int rc = wr(f, "SSMFORCL", 1, 8) | wr(f, hdr, 4, 8) | wr(f, &np, 8, 1) |
	         wr(f, &batch.sup_weight, 8, 1) | wr(f, rec, sizeof *rec, (size_t)B * T) |
	         wr(f, len, 4, (size_t)B) | wr(f, lab, 1, (size_t)B) | wr(f, p, 4, (size_t)np) |
	         wr(f, out.logits, 4, (size_t)B * T * SSMF_N_LOGITS) |
	         wr(f, out.nll, 4, (size_t)B * T * SSMF_N_COMP) | wr(f, out.score, 4, (size_t)B) |
	         wr(f, out.score_comp, 4, (size_t)B * SSMF_N_COMP) |
	         wr(f, out.cls_logit, 4, (size_t)B) | wr(f, &out.loss, 8, 1) |
	         wr(f, ssmf_model_grads(m), 4, (size_t)np);
	if (fclose(f) != 0 || rc) {
		fprintf(stderr, "%s: write failed\n", argv[1]);
		return 1;
	}
	printf("dumped %lld params, loss %.6f\n", (long long)np, out.loss);
	free(rec);
	ssmf_acts_free(ai);
	ssmf_acts_free(a);
	ssmf_model_free(m);
	return 0;
}
