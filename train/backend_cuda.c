/* backend_cuda.c - the CUDA backend: parameters, gradients and AdamW moments live in the
 * device arena (cuda/ssm_cuda.h); sequence-mode forward and backward, the gradient norm and
 * AdamW run there. The host copies (the model's parameter buffer, the optimizer's moments)
 * are only made current for checkpoints, the best-epoch copy and the final model.
 *
 * The same code drives the host emulation of the kernels (cuda/cx.h, --device
 * cuda-emulated; both behind cuda/devices.h), which is how the tests check it against the CPU
 * backend without a GPU.
 *
 * The on-device AdamW has the CPU's semantics (PyTorch AdamW, decoupled weight decay on the
 * tensors flagged `decay`, gradients scaled by grad_scale first); it differs from
 * train_adamw_update only in float rounding (lr*wd formed in float, division by the bias
 * corrections instead of multiplication by their inverses), and the gradient norm sums
 * per-chunk float partials. tests/train (check cuda_emulated) bounds the effect on the
 * per-step losses.
 *
 * Distributed (dist.h): each process's GPU (its local rank among the visible devices) runs
 * a contiguous share of the batch's flows, normalised by the whole batch's counts; the
 * shares' gradients are copied to the host, added in rank order along the ranks and copied
 * back (the default model's gradient is 249 KB, a copy of microseconds; NCCL would matter
 * for much larger models). The sum of per-process GEMMs is not the one GEMM of a single
 * process, so N GPUs give one GPU's losses up to float rounding, the same for every run
 * with the same N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/devices.h"
#include "train/backend.h"
#include "train/train.h"

struct cuda_ctx {
	const struct ssmf_cuda_api *ops;
	void *dev;
	struct ssmf_model *m;
	struct train_adamw *opt;
	struct train_dist *dist; /* NULL: one process */
	ssmf_real *share;        /* (num_params) this process's gradients, distributed runs */
	double *losses;          /* (2 size) each process's loss_next, then loss_sup */
};

static int cu_forward(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
                      size_t errlen)
{
	struct cuda_ctx *c = ctx;
	return c->ops->forward(c->dev, b, out, err, errlen) < 0 ? -1 : 0;
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

/* The batch's flows [f0, f1) on this process's device, the gradients summed over the
 * processes in rank order; every process ends with the sum on its device. */
static int dist_forward_backward(struct cuda_ctx *c, const struct ssmf_batch *b,
                                 struct ssmf_outputs *out, char *err, size_t errlen)
{
	struct train_dist *d = c->dist;
	int f0, f1, rc = 0;
	train_dist_share(d, b->B, &f0, &f1);
	long n_lab = 0;
	for (int i = 0; b->label && i < b->B; i++)
		n_lab += b->label[i] == 0 || b->label[i] == 1;
	struct ssmf_batch part = *b;
	part.rec = b->rec + (size_t)f0 * b->T;
	part.len = b->len + f0;
	part.label = b->label ? b->label + f0 : NULL;
	part.B = f1 - f0;
	struct ssmf_outputs po = {0};
	size_t n = ssmf_model_num_params(c->m);
	if (c->ops->zero_grad(c->dev, err, errlen) < 0)
		rc = TRAIN_E_INTERNAL;
	else if (part.B > 0 && /* a batch of fewer flows than processes leaves some idle */
	         (c->ops->loss_norm(c->dev, ssmf_pred_count(b->len, b->B), n_lab, err, errlen) <
	              0 ||
	          c->ops->forward(c->dev, &part, &po, err, errlen) < 0 ||
	          c->ops->backward(c->dev, err, errlen) < 0))
		rc = TRAIN_E_INTERNAL;
	else if (c->ops->download_grads(c->dev, c->share, err, errlen) < 0)
		rc = TRAIN_E_INTERNAL;
	if ((rc = train_dist_agree(d, rc, err, errlen)) < 0)
		return rc;
	ssmf_real *sum = ssmf_model_grads(c->m); /* the host copy, a staging buffer here */
	memset(sum, 0, n * sizeof *sum);
	struct grad_share s = {c->share};
	memset(c->losses, 0, 2 * (size_t)d->size * sizeof *c->losses);
	c->losses[2 * d->rank] = po.loss_next;
	c->losses[2 * d->rank + 1] = po.loss_sup;
	if ((rc = train_dist_reduce_grads(d, sum, n, add_share, &s, err, errlen)) < 0 ||
	    (rc = train_dist_sum_disjoint(d, c->losses, 2 * d->size, err, errlen)) < 0)
		return rc;
	if (c->ops->upload_grads(c->dev, sum, err, errlen) < 0)
		return TRAIN_E_INTERNAL;
	memset(out, 0, sizeof *out);
	for (int r = 0; r < d->size; r++) {
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
	if (c->dist && c->dist->size > 1)
		return dist_forward_backward(c, b, out, err, errlen);
	if (c->ops->zero_grad(c->dev, err, errlen) < 0 ||
	    c->ops->forward(c->dev, b, out, err, errlen) < 0 ||
	    c->ops->backward(c->dev, err, errlen) < 0)
		return TRAIN_E_INTERNAL;
	return 0;
}

static int cu_grad_norm(void *ctx, double *norm, char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	return c->ops->grad_norm(c->dev, norm, err, errlen) < 0 ? -1 : 0;
}

static long cu_optimizer_step(void *ctx, const struct train_adamw_step *s, char *err, size_t errlen)
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
	 * copies them out (backend.h) */
	return c->ops->adamw(c->dev, &hp, err, errlen) < 0 ? -1 : 0;
}

static int cu_sync_to_host(void *ctx, char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	if (c->ops->download_params(c->dev, c->m, err, errlen) < 0 ||
	    c->ops->adamw_moments(c->dev, c->opt->m, c->opt->v, 0, err, errlen) < 0)
		return -1;
	return 0;
}

static int cu_sync_from_host(void *ctx, char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	if (c->ops->upload_params(c->dev, c->m, err, errlen) < 0 ||
	    c->ops->adamw_moments(c->dev, c->opt->m, c->opt->v, 1, err, errlen) < 0)
		return -1;
	return 0;
}

static void cu_free(void *ctx)
{
	struct cuda_ctx *c = ctx;
	if (c && c->dev)
		c->ops->destroy(c->dev);
	if (c) {
		free(c->share);
		free(c->losses);
	}
	free(c);
}

int train_backend_cuda_open(struct train_backend *be, int emulated, struct ssmf_model *m,
                            struct train_adamw *o, struct train_dist *dist, int max_B, int max_T,
                            char *err, size_t errlen)
{
	memset(be, 0, sizeof *be);
	const struct ssmf_cuda_api *ops = emulated ? &ssmf_cuda_api_emulated : &ssmf_cuda_api_gpu;
	struct cuda_ctx *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	c->ops = ops;
	c->m = m;
	c->opt = o;
	c->dist = dist;
	/* one GPU a process: its rank among those on its host picks one of the visible */
	int device = 0;
	char why[512] = "";
	if (dist && dist->size > 1) {
		int n_dev = emulated ? 1 : ssmf_cuda_available(why, sizeof why);
		device = n_dev > 0 ? dist->local_rank % n_dev : 0;
		c->share = malloc(ssmf_model_num_params(m) * sizeof *c->share);
		c->losses = malloc(2 * (size_t)dist->size * sizeof *c->losses);
		if (!c->share || !c->losses) {
			cu_free(c);
			snprintf(err, errlen, "out of memory");
			return TRAIN_E_INTERNAL;
		}
	}
	/* the one device allocation of the run: sequence mode for the largest batch, no step
	 * mode; the parameters are uploaded, the moments start at zero */
	struct ssmf_cuda_opts co = {.device = device, .max_B = max_B, .max_T = max_T};
	int rc = ops->create(&c->dev, m, &co, why, sizeof why);
	if (rc < 0) {
		cu_free(c);
		switch (rc) {
		case SSMF_CUDA_E_NOBUILD:
		case SSMF_CUDA_E_NODEV:
			snprintf(err, errlen, "--device %s: %s", ops->name, why);
			return TRAIN_E_NO_CUDA;
		case SSMF_CUDA_E_CONFIG:
			snprintf(err, errlen, "--device %s: %s", ops->name, why);
			return TRAIN_E_USAGE;
		case SSMF_CUDA_E_OOM:
			snprintf(err, errlen, "--device %s: %s (lower --batch-size or --max-len)",
			         ops->name, why);
			return TRAIN_E_INTERNAL;
		default:
			snprintf(err, errlen, "--device %s: %s", ops->name, why);
			return TRAIN_E_INTERNAL;
		}
	}
	*be = (struct train_backend){
	    .name = ops->name,
	    .ctx = c,
	    .forward_backward = cu_forward_backward,
	    .forward = cu_forward,
	    .grad_norm = cu_grad_norm,
	    .optimizer_step = cu_optimizer_step,
	    .sync_to_host = cu_sync_to_host,
	    .sync_from_host = cu_sync_from_host,
	    .free = cu_free,
	};
	return 0;
}
