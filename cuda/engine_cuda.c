/* engine_cuda.c - the CUDA engine (ssm/engine.h): parameters, gradients and AdamW moments live in
 * the device arena (cuda/ssm_cuda.h); sequence-mode forward and backward, the gradient norm and
 * AdamW run there. The host copies (the model's parameter buffer, the optimizer's moments)
 * are only made current for checkpoints, the best-epoch copy and the final model.
 *
 * The same code drives the host emulation of the kernels (cuda/cx.h, --device
 * cuda-emulated; both behind cuda/devices.h), which is how the tests check it against the CPU
 * engine without a GPU.
 *
 * The on-device AdamW has the CPU's semantics (PyTorch AdamW, decoupled weight decay on the
 * tensors flagged `decay`, gradients scaled by grad_scale first); it differs from
 * ssmf_adamw_update only in float rounding (lr*wd formed in float, division by the bias
 * corrections instead of multiplication by their inverses), and the gradient norm sums
 * per-chunk float partials. tests/train (check cuda_emulated) bounds the effect on the
 * per-step losses.
 *
 * For inference only (no optimizer) the same context serves infer and step mode.
 *
 * In a job of several processes (ssmf_reducer): each process's GPU (its rank on its host
 * among the visible devices) runs a contiguous share of the batch's flows, normalised by
 * the whole batch's counts; the shares' gradients are added in rank order along the ranks
 * on the devices (cuda/grad_ring.h: NCCL, or the emulation's messages), or, where the
 * device has no transport (a build without NCCL) or the reducer asks for the host
 * (ssmf_reducer.chain), copied to the host, added along the same chain by the reducer and copied
 * back. Both give the same bits. The sum of per-process GEMMs is not the one GEMM of a single
 * process, so N GPUs give one GPU's losses up to float rounding, the same for every run
 * with the same N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda/devices.h"
#include "ssm/engine.h"

struct cuda_ctx {
	const struct ssmf_cuda_api *ops;
	void *dev;
	struct ssmf_model *train; /* the model being trained (NULL: inference only) */
	struct ssmf_adamw *opt;
	const struct ssmf_reducer *red; /* NULL: one process */
	ssmf_real *share;               /* (num_params) this process's gradients, with red */
	double *losses;                 /* (2 size) each process's loss_next, then loss_sup */
	/* the chain on the device, opened at the first shared step (ring_state 1), or none
	 * there (-1: staged through the host); 0: not yet tried */
	struct ssmf_grad_transport ring;
	int ring_state;
};

static int cu_infer(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
                    size_t errlen)
{
	struct cuda_ctx *c = ctx;
	return c->ops->forward(c->dev, b, out, err, errlen) < 0 ? -1 : 0;
}

static int cu_step(void *ctx, const struct ssmf_record *rec, ssmf_real *const *state,
                   const int32_t *slot, int n, ssmf_real *nll, char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	(void)state; /* the states are in the device's slots */
	return c->ops->step(c->dev, rec, slot, n, nll, err, errlen);
}

static int cu_step_reset(void *ctx, const int32_t *slots, int n, char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	return c->ops->step_reset(c->dev, slots, n, err, errlen);
}

struct grad_share {
	const ssmf_real *g;
};

static void add_share(void *user, size_t i0, size_t i1, ssmf_real *dst)
{
	const struct grad_share *s = user;
	for (size_t i = i0; i < i1; i++)
		dst[i] += s->g[i];
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The chain on the device, at the first shared step rather than at open: every process
 * has set up by then (the trainer agrees on that), so none can be missing from the
 * transport's collective start. 0 (ring_state says which path), or the reducer's return. */
static int open_ring(struct cuda_ctx *c, char *err, size_t errlen)
{
	const struct ssmf_reducer *red = c->red;
	c->ring_state = -1;
	if (red->chain == SSMF_CHAIN_HOST)
		return 0;
	int rc = c->ops->grad_ring(c->dev, red, &c->ring, err, errlen);
	if (rc == SSMF_CUDA_E_NOBUILD && red->chain != SSMF_CHAIN_DEVICE)
		return 0;
	if (rc == SSMF_CUDA_E_NOBUILD) { /* alike on every process: none waits */
		char why[512];
		snprintf(why, sizeof why, "%s", err);
		snprintf(err, errlen, "SSMF_CUDA_REDUCE=device: %s", why);
		return -1;
	}
	if (rc < 0)
		return rc;
	c->ring_state = 1;
	return 0;
}

/* The chain on the device: this process's gradient there becomes the sum. */
static int ring_reduce(struct cuda_ctx *c, char *err, size_t errlen)
{
	const struct ssmf_reducer *red = c->red;
	double t0 = now_s(), bytes = 0;
	/* a peer may wait for what failed: the job cannot go on */
	if (ssmf_grad_ring_reduce(&c->ring, &bytes, err, errlen) < 0)
		return red->lost_rc;
	if (red->account)
		red->account(red->user, now_s() - t0, bytes);
	return 0;
}

/* The host's way: the device's gradient (downloaded into share) added along the
 * reducer's chain into the host copy of the gradients, a staging buffer here, to be
 * uploaded once the job's calls of the step are done. */
static int staged_reduce(struct cuda_ctx *c, char *err, size_t errlen)
{
	const struct ssmf_reducer *red = c->red;
	size_t n = ssmf_model_num_params(c->train);
	ssmf_real *sum = ssmf_model_grads(c->train);
	memset(sum, 0, n * sizeof *sum);
	struct grad_share s = {c->share};
	return red->reduce_grads(red->user, sum, n, add_share, &s, err, errlen);
}

/* The batch's flows [f0, f1) on this process's device, the gradients summed over the
 * processes in rank order; every process ends with the sum on its device. */
static int shared_forward_backward(struct cuda_ctx *c, const struct ssmf_batch *b,
                                   struct ssmf_outputs *out, char *err, size_t errlen)
{
	const struct ssmf_reducer *red = c->red;
	int f0, f1, failed = 0;
	red->share(red->user, b->B, &f0, &f1);
	long n_lab = 0;
	for (int i = 0; b->label && i < b->B; i++)
		n_lab += b->label[i] == 0 || b->label[i] == 1;
	struct ssmf_batch part = *b;
	part.rec = b->rec + (size_t)f0 * b->T;
	part.len = b->len + f0;
	part.label = b->label ? b->label + f0 : NULL;
	part.B = f1 - f0;
	struct ssmf_outputs po = {0};
	int rc = c->ring_state == 0 ? open_ring(c, err, errlen) : 0;
	if (rc < 0)
		return rc;
	if (c->ops->zero_grad(c->dev, err, errlen) < 0)
		failed = 1;
	else if (part.B > 0 && /* a batch of fewer flows than processes leaves some idle */
	         (c->ops->loss_norm(c->dev, ssmf_pred_count(b->len, b->B), n_lab, err, errlen) <
	              0 ||
	          c->ops->forward(c->dev, &part, &po, err, errlen) < 0 ||
	          c->ops->backward(c->dev, err, errlen) < 0))
		failed = 1;
	else if (c->ring_state < 0 && c->ops->download_grads(c->dev, c->share, err, errlen) < 0)
		failed = 1;
	if ((rc = red->agree(red->user, failed, err, errlen)) < 0)
		return rc;
	memset(c->losses, 0, 2 * (size_t)red->size * sizeof *c->losses);
	c->losses[2 * red->rank] = po.loss_next;
	c->losses[2 * red->rank + 1] = po.loss_sup;
	if ((rc = c->ring_state > 0 ? ring_reduce(c, err, errlen) : staged_reduce(c, err, errlen)) <
	        0 ||
	    (rc = red->sum_disjoint(red->user, c->losses, 2 * red->size, err, errlen)) < 0)
		return rc;
	if (c->ring_state < 0 &&
	    c->ops->upload_grads(c->dev, ssmf_model_grads(c->train), err, errlen) < 0)
		return -1;
	memset(out, 0, sizeof *out);
	for (int r = 0; r < red->size; r++) {
		out->loss_next += c->losses[2 * r];
		out->loss_sup += c->losses[2 * r + 1];
	}
	out->n_pred = ssmf_pred_count(b->len, b->B);
	out->loss = out->loss_next + b->sup_weight * out->loss_sup;
	return 0;
}

static int cu_forward_backward(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out,
                               char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	if (c->red)
		return shared_forward_backward(c, b, out, err, errlen);
	if (c->ops->zero_grad(c->dev, err, errlen) < 0 ||
	    c->ops->forward(c->dev, b, out, err, errlen) < 0 ||
	    c->ops->backward(c->dev, err, errlen) < 0)
		return -1;
	return 0;
}

static int cu_grad_norm(void *ctx, double *norm, char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	return c->ops->grad_norm(c->dev, norm, err, errlen) < 0 ? -1 : 0;
}

static long cu_adamw(void *ctx, const struct ssmf_adamw_step *s, char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	struct ssmf_cuda_adamw_hp hp = {
	    .lr = s->lr,
	    .beta1 = s->beta1,
	    .beta2 = s->beta2,
	    .eps = s->eps,
	    .weight_decay = s->weight_decay,
	    .step = s->t,
	    .grad_scale = s->grad_scale,
	};
	/* the parameters stay on the device: non-finite ones are found by the loop when it
	 * copies them out (ssm/engine.h) */
	return c->ops->adamw(c->dev, &hp, err, errlen) < 0 ? -1 : 0;
}

static int cu_sync_to_host(void *ctx, char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	if (c->ops->download_params(c->dev, c->train, err, errlen) < 0 ||
	    c->ops->adamw_moments(c->dev, c->opt->m, c->opt->v, 0, err, errlen) < 0)
		return -1;
	return 0;
}

static int cu_sync_from_host(void *ctx, char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	if (c->ops->upload_params(c->dev, c->train, err, errlen) < 0 ||
	    c->ops->adamw_moments(c->dev, c->opt->m, c->opt->v, 1, err, errlen) < 0)
		return -1;
	return 0;
}

static void cu_free(void *ctx)
{
	struct cuda_ctx *c = ctx;
	if (c && c->ring_state > 0)
		c->ring.close(c->ring.user); /* before its device goes */
	if (c && c->dev)
		c->ops->destroy(c->dev);
	if (c) {
		free(c->share);
		free(c->losses);
	}
	free(c);
}

int ssmf_engine_cuda_open(struct ssmf_engine *e, const struct ssmf_cuda_api *ops,
                          const struct ssmf_model *m, const struct ssmf_engine_opts *o, char *err,
                          size_t errlen)
{
	memset(e, 0, sizeof *e);
	struct cuda_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return SSMF_ENGINE_E_INTERNAL;
	}
	c->ops = ops;
	c->train = o->train;
	c->opt = o->opt;
	char why[512] = "";
	int device = 0;
	if (o->reducer && o->train) {
		/* one GPU a process: its rank among those on its host picks one of the visible */
		int n_dev =
		    ops == &ssmf_cuda_api_emulated ? 1 : ssmf_cuda_available(why, sizeof why);
		device = n_dev > 0 ? o->device % n_dev : 0;
		c->red = o->reducer;
		c->share = malloc(ssmf_model_num_params(m) * sizeof *c->share);
		c->losses = malloc(2 * (size_t)o->reducer->size * sizeof *c->losses);
		if (!c->share || !c->losses) {
			cu_free(c);
			snprintf(err, errlen, "out of memory");
			return SSMF_ENGINE_E_INTERNAL;
		}
	}
	/* the one device allocation: sequence mode for the largest batch, step mode for
	 * step_n packets of step_flows flows; the parameters are uploaded, the moments start
	 * at zero */
	struct ssmf_cuda_opts co = {.device = device,
	                            .max_B = o->max_B,
	                            .max_T = o->max_T,
	                            .step_n = o->step_n,
	                            .step_flows = o->step_flows};
	int rc = ops->create(&c->dev, m, &co, why, sizeof why);
	if (rc < 0) {
		cu_free(c);
		switch (rc) {
		case SSMF_CUDA_E_NOBUILD:
		case SSMF_CUDA_E_NODEV:
			snprintf(err, errlen, "--device %s: %s", ops->name, why);
			return SSMF_ENGINE_E_NO_DEVICE;
		case SSMF_CUDA_E_CONFIG:
			snprintf(err, errlen, "--device %s: %s", ops->name, why);
			return SSMF_ENGINE_E_CONFIG;
		case SSMF_CUDA_E_OOM: /* training's batch is the user's to choose */
			snprintf(err, errlen, "--device %s: %s%s", ops->name, why,
			         o->train ? " (lower --batch-size or --max-len)" : "");
			return SSMF_ENGINE_E_INTERNAL;
		default:
			snprintf(err, errlen, "--device %s: %s", ops->name, why);
			return SSMF_ENGINE_E_INTERNAL;
		}
	}
	*e = (struct ssmf_engine){.name = ops->name, .ctx = c, .free = cu_free};
	if (o->max_B > 0 && o->max_T > 0)
		e->infer = cu_infer;
	if (o->step_n > 0) {
		e->step = cu_step;
		e->step_reset = cu_step_reset;
	}
	if (o->train && o->opt) {
		e->forward_backward = cu_forward_backward;
		e->grad_norm = cu_grad_norm;
		e->adamw = cu_adamw;
		e->sync_to_host = cu_sync_to_host;
		e->sync_from_host = cu_sync_from_host;
	}
	return 0;
}
