/* backend_cpu.c - the CPU backend: ssm's forward/backward, AdamW on the host buffers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/backend.h"
#include "train/train.h"

struct cpu_ctx {
	struct ssmf_model *m;
	struct ssmf_acts *acts;
	struct train_adamw *opt;
};

static int cpu_forward(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
                       size_t errlen)
{
	struct cpu_ctx *c = ctx;
	return ssmf_infer(c->m, c->acts, b, out, err, errlen);
}

static int cpu_forward_backward(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out,
                                char *err, size_t errlen)
{
	struct cpu_ctx *c = ctx;
	ssmf_zero_grad(c->m);
	return ssmf_forward_backward(c->m, c->acts, b, out, err, errlen);
}

static int cpu_grad_norm(void *ctx, double *norm, char *err, size_t errlen)
{
	struct cpu_ctx *c = ctx;
	(void)err, (void)errlen;
	*norm = train_grad_norm(ssmf_model_grads(c->m), ssmf_model_num_params(c->m));
	return 0;
}

static long cpu_optimizer_step(void *ctx, const struct train_adamw_step *s, char *err,
                               size_t errlen)
{
	struct cpu_ctx *c = ctx;
	(void)err, (void)errlen;
	return train_adamw_update(c->opt, ssmf_model_params(c->m), ssmf_model_grads(c->m), s);
}

static int cpu_sync(void *ctx, char *err, size_t errlen)
{
	(void)ctx, (void)err, (void)errlen;
	return 0; /* the host buffers are the working copies */
}

static void cpu_free(void *ctx)
{
	struct cpu_ctx *c = ctx;
	if (c)
		ssmf_acts_free(c->acts);
	free(c);
}

int train_backend_cpu_open(struct train_backend *be, struct ssmf_model *m, struct train_adamw *o,
                           int max_B, int max_T, char *err, size_t errlen)
{
	memset(be, 0, sizeof *be);
	struct cpu_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	c->m = m;
	c->opt = o;
	c->acts = ssmf_acts_new(m, max_B, max_T, err, errlen);
	if (!c->acts) {
		free(c);
		return TRAIN_E_INTERNAL;
	}
	*be = (struct train_backend){
	    .name = "cpu",
	    .ctx = c,
	    .forward_backward = cpu_forward_backward,
	    .forward = cpu_forward,
	    .grad_norm = cpu_grad_norm,
	    .optimizer_step = cpu_optimizer_step,
	    .sync_to_host = cpu_sync,
	    .sync_from_host = cpu_sync,
	    .free = cpu_free,
	};
	return 0;
}
