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
 * per-step losses. */
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
};

static int cu_forward(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
                      size_t errlen)
{
	struct cuda_ctx *c = ctx;
	return c->ops->forward(c->dev, b, out, err, errlen) < 0 ? -1 : 0;
}

static int cu_forward_backward(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out,
                               char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
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
	free(c);
}

int train_backend_cuda_open(struct train_backend *be, int emulated, struct ssmf_model *m,
                            struct train_adamw *o, int max_B, int max_T, char *err, size_t errlen)
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
	/* the one device allocation of the run: sequence mode for the largest batch, no step
	 * mode; the parameters are uploaded, the moments start at zero */
	struct ssmf_cuda_opts co = {.device = 0, .max_B = max_B, .max_T = max_T};
	char why[512] = "";
	int rc = ops->create(&c->dev, m, &co, why, sizeof why);
	if (rc < 0) {
		free(c);
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
