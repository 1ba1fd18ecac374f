/* engine_cpu.c - the CPU engine: ssm's forward and backward, step mode over the caller's
 * states, AdamW on the host buffers. In a job of several processes (ssmf_reducer) each runs
 * its share of the batch's gradient groups and the group gradients are added along the
 * ranks in group order: the gradients and losses of one process, bit for bit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/engine.h"

struct cpu_ctx {
	const struct ssmf_model *m;
	struct ssmf_model *train; /* m, when training */
	struct ssmf_acts *acts;   /* sequence mode (NULL: none) */
	struct ssmf_step_ws *ws;  /* step mode (NULL: none) */
	struct ssmf_adamw *opt;
	const struct ssmf_reducer *red; /* NULL: one process */
};

static int cpu_infer(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
                     size_t errlen)
{
	struct cpu_ctx *c = ctx;
	return ssmf_infer(c->m, c->acts, b, out, err, errlen);
}

/* This process's groups [g0, g1), for the reducer. */
struct group_share {
	const struct cpu_ctx *c;
	int g0, g1;
};

static void add_share(void *user, size_t i0, size_t i1, ssmf_real *dst)
{
	const struct group_share *s = user;
	ssmf_add_group_grads(s->c->train, s->c->acts, s->g0, s->g1, i0, i1, dst);
}

static int shared_forward_backward(struct cpu_ctx *c, const struct ssmf_batch *b,
                                   struct ssmf_outputs *out, char *err, size_t errlen)
{
	const struct ssmf_reducer *red = c->red;
	int ng = b->B < 1 ? 0 : ssmf_grad_groups(b->B);
	struct group_share s = {.c = c};
	red->share(red->user, ng, &s.g0, &s.g1);
	double loss[2 * SSMF_MAX_GRAD_GROUPS] = {0}; /* loss_next per group, then loss_sup */
	int failed = ssmf_forward_backward_groups(c->train, c->acts, b, s.g0, s.g1, loss,
	                                          loss + SSMF_MAX_GRAD_GROUPS, err, errlen) < 0;
	/* a process that failed alone must not leave the others waiting in the chain */
	int rc = red->agree(red->user, failed, err, errlen);
	if (rc < 0)
		return rc;
	ssmf_zero_grad(c->train);
	rc = red->reduce_grads(red->user, ssmf_model_grads(c->train),
	                       ssmf_model_num_params(c->train), add_share, &s, err, errlen);
	if (rc == 0)
		rc = red->sum_disjoint(red->user, loss, 2 * SSMF_MAX_GRAD_GROUPS, err, errlen);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof *out);
	for (int g = 0; g < ng; g++) {
		out->loss_next += loss[g];
		out->loss_sup += loss[SSMF_MAX_GRAD_GROUPS + g];
	}
	out->n_pred = ssmf_pred_count(b->len, b->B);
	out->loss = out->loss_next + b->sup_weight * out->loss_sup;
	return 0;
}

static int cpu_forward_backward(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out,
                                char *err, size_t errlen)
{
	struct cpu_ctx *c = ctx;
	if (c->red)
		return shared_forward_backward(c, b, out, err, errlen);
	ssmf_zero_grad(c->train);
	return ssmf_forward_backward(c->train, c->acts, b, out, err, errlen) < 0 ? -1 : 0;
}

static int cpu_grad_norm(void *ctx, double *norm, char *err, size_t errlen)
{
	struct cpu_ctx *c = ctx;
	(void)err, (void)errlen;
	*norm = ssmf_grad_norm(ssmf_model_grads(c->train), ssmf_model_num_params(c->m));
	return 0;
}

static long cpu_adamw(void *ctx, const struct ssmf_adamw_step *s, char *err, size_t errlen)
{
	struct cpu_ctx *c = ctx;
	(void)err, (void)errlen;
	return ssmf_adamw_update(c->opt, ssmf_model_params(c->train), ssmf_model_grads(c->train),
	                         s);
}

static int cpu_step(void *ctx, const struct ssmf_record *rec, ssmf_real *const *state,
                    const int32_t *slot, int n, ssmf_real *nll, char *err, size_t errlen)
{
	struct cpu_ctx *c = ctx;
	(void)slot; /* the states are the caller's, on the host */
	return ssmf_step(c->m, c->ws, state, rec, n, nll, NULL, err, errlen);
}

static int cpu_sync(void *ctx, char *err, size_t errlen)
{
	(void)ctx, (void)err, (void)errlen;
	return 0; /* the host buffers are the working copies */
}

static void cpu_free(void *ctx)
{
	struct cpu_ctx *c = ctx;
	if (c) {
		ssmf_acts_free(c->acts);
		ssmf_step_ws_free(c->ws);
	}
	free(c);
}

int ssmf_engine_cpu_open(struct ssmf_engine *e, const struct ssmf_model *m,
                         const struct ssmf_engine_opts *o, char *err, size_t errlen)
{
	memset(e, 0, sizeof *e);
	struct cpu_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return SSMF_ENGINE_E_INTERNAL;
	}
	c->m = m;
	c->train = o->train;
	c->opt = o->opt;
	c->red = o->reducer;
	/* training keeps every activation for the backward; inference far fewer */
	if (o->max_B > 0 && o->max_T > 0)
		c->acts = o->train ? ssmf_acts_new(m, o->max_B, o->max_T, err, errlen)
		                   : ssmf_acts_new_infer(m, o->max_B, o->max_T, err, errlen);
	if (o->step_n > 0)
		c->ws = ssmf_step_ws_new(m, o->step_n, err, errlen);
	if ((o->max_B > 0 && o->max_T > 0 && !c->acts) || (o->step_n > 0 && !c->ws)) {
		cpu_free(c);
		return SSMF_ENGINE_E_INTERNAL;
	}
	*e = (struct ssmf_engine){.name = "cpu", .ctx = c, .free = cpu_free};
	if (c->acts)
		e->infer = cpu_infer;
	if (c->ws)
		e->step = cpu_step;
	if (c->acts && o->train && o->opt) {
		e->forward_backward = cpu_forward_backward;
		e->grad_norm = cpu_grad_norm;
		e->adamw = cpu_adamw;
		e->sync_to_host = cpu_sync;
		e->sync_from_host = cpu_sync;
	}
	return 0;
}

void ssmf_engine_close(struct ssmf_engine *e)
{
	if (e->free)
		e->free(e->ctx);
	memset(e, 0, sizeof *e);
}
