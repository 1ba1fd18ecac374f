/* backend_cpu.c - the CPU backend: ssm's forward/backward, AdamW on the host buffers. In a
 * distributed run (dist.h) each process runs its share of the batch's gradient groups and
 * the group gradients are added along the ranks in group order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/backend.h"
#include "train/train.h"

struct cpu_ctx {
	struct ssmf_model *m;
	struct ssmf_acts *acts;
	struct train_adamw *opt;
	struct train_dist *dist; /* NULL: one process */
};

static int cpu_forward(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
                       size_t errlen)
{
	struct cpu_ctx *c = ctx;
	return ssmf_infer(c->m, c->acts, b, out, err, errlen);
}

/* This process's groups [g0, g1), for train_dist_reduce_grads. */
struct group_share {
	const struct cpu_ctx *c;
	int g0, g1;
};

static void add_share(void *user, size_t i0, size_t i1, ssmf_real *dst)
{
	const struct group_share *s = user;
	ssmf_add_group_grads(s->c->m, s->c->acts, s->g0, s->g1, i0, i1, dst);
}

/* ssmf_forward_backward with the batch's groups spread over the processes: the same
 * gradients and losses, bit for bit (ssm.h). */
static int dist_forward_backward(struct cpu_ctx *c, const struct ssmf_batch *b,
                                 struct ssmf_outputs *out, char *err, size_t errlen)
{
	int ng = b->B < 1 ? 0 : ssmf_grad_groups(b->B);
	struct group_share s = {.c = c};
	train_dist_share(c->dist, ng, &s.g0, &s.g1);
	double loss[2 * SSMF_MAX_GRAD_GROUPS] = {0}; /* loss_next per group, then loss_sup */
	int rc = ssmf_forward_backward_groups(c->m, c->acts, b, s.g0, s.g1, loss,
	                                      loss + SSMF_MAX_GRAD_GROUPS, err, errlen) < 0
	             ? TRAIN_E_INTERNAL
	             : 0;
	/* a process that failed alone must not leave the others waiting in the chain */
	if ((rc = train_dist_agree(c->dist, rc, err, errlen)) < 0)
		return rc;
	ssmf_zero_grad(c->m);
	rc = train_dist_reduce_grads(c->dist, ssmf_model_grads(c->m), ssmf_model_num_params(c->m),
	                             add_share, &s, err, errlen);
	if (rc == 0)
		rc = train_dist_sum_disjoint(c->dist, loss, 2 * SSMF_MAX_GRAD_GROUPS, err, errlen);
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
	if (c->dist && c->dist->size > 1)
		return dist_forward_backward(c, b, out, err, errlen);
	ssmf_zero_grad(c->m);
	return ssmf_forward_backward(c->m, c->acts, b, out, err, errlen) < 0 ? TRAIN_E_INTERNAL : 0;
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
                           struct train_dist *dist, int max_B, int max_T, char *err, size_t errlen)
{
	memset(be, 0, sizeof *be);
	struct cpu_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	c->m = m;
	c->opt = o;
	c->dist = dist;
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
