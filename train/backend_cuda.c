/* backend_cuda.c - the CUDA backend: parameters, gradients and AdamW moments live in the
 * device arena (cuda/ssm_cuda.h); sequence-mode forward and backward, the gradient norm and
 * AdamW run there. The host copies (the model's parameter buffer, the optimizer's moments)
 * are only made current for checkpoints, the best-epoch copy and the final model.
 *
 * The same code drives the host emulation of the kernels (cuda/cx.h, --device
 * cuda-emulated), which is how the tests check it against the CPU backend without a GPU.
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

#include "cuda/cx.h"
#include "cuda/ssm_cuda.h"
#include "train/backend.h"
#include "train/train.h"

/* The calls the backend makes, over the GPU (ssmf_cuda_*) or the emulation (ssmf_cxh_*). */
struct cuda_ops {
	const char *name;
	int (*create)(void **dev, const struct ssmf_model *m, const struct ssmf_cuda_opts *o,
	              char *err, size_t errlen);
	void (*destroy)(void *dev);
	int (*zero_grad)(void *dev, char *err, size_t errlen);
	int (*forward)(void *dev, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
	               size_t errlen);
	int (*backward)(void *dev, char *err, size_t errlen);
	int (*grad_norm)(void *dev, double *norm, char *err, size_t errlen);
	int (*adamw)(void *dev, const struct ssmf_cuda_adamw_hp *hp, char *err, size_t errlen);
	int (*moments)(void *dev, ssmf_real *m, ssmf_real *v, int to_device, char *err,
	               size_t errlen);
	int (*download_params)(void *dev, struct ssmf_model *m, char *err, size_t errlen);
	int (*upload_params)(void *dev, const struct ssmf_model *m, char *err, size_t errlen);
};

/* One table per API; P is the function prefix, T the context type. */
#define CUDA_OPS(TABLE, NAME, P, T)                                                                \
	static int TABLE##_create(void **dev, const struct ssmf_model *m,                          \
	                          const struct ssmf_cuda_opts *o, char *err, size_t errlen)        \
	{                                                                                          \
		T *c = NULL;                                                                       \
		int rc = P##new (&c, m, o, err, errlen);                                           \
		*dev = c;                                                                          \
		return rc;                                                                         \
	}                                                                                          \
	static void TABLE##_destroy(void *dev)                                                     \
	{                                                                                          \
		P##free(dev);                                                                      \
	}                                                                                          \
	static int TABLE##_zero_grad(void *dev, char *err, size_t errlen)                          \
	{                                                                                          \
		return P##zero_grad(dev, err, errlen);                                             \
	}                                                                                          \
	static int TABLE##_forward(void *dev, const struct ssmf_batch *b,                          \
	                           struct ssmf_outputs *out, char *err, size_t errlen)             \
	{                                                                                          \
		return P##forward(dev, b, out, err, errlen);                                       \
	}                                                                                          \
	static int TABLE##_backward(void *dev, char *err, size_t errlen)                           \
	{                                                                                          \
		return P##backward(dev, err, errlen);                                              \
	}                                                                                          \
	static int TABLE##_grad_norm(void *dev, double *norm, char *err, size_t errlen)            \
	{                                                                                          \
		return P##grad_norm(dev, norm, err, errlen);                                       \
	}                                                                                          \
	static int TABLE##_adamw(void *dev, const struct ssmf_cuda_adamw_hp *hp, char *err,        \
	                         size_t errlen)                                                    \
	{                                                                                          \
		return P##adamw(dev, hp, err, errlen);                                             \
	}                                                                                          \
	static int TABLE##_moments(void *dev, ssmf_real *m, ssmf_real *v, int to_device,           \
	                           char *err, size_t errlen)                                       \
	{                                                                                          \
		return P##adamw_moments(dev, m, v, to_device, err, errlen);                        \
	}                                                                                          \
	static int TABLE##_download_params(void *dev, struct ssmf_model *m, char *err,             \
	                                   size_t errlen)                                          \
	{                                                                                          \
		return P##download_params(dev, m, err, errlen);                                    \
	}                                                                                          \
	static int TABLE##_upload_params(void *dev, const struct ssmf_model *m, char *err,         \
	                                 size_t errlen)                                            \
	{                                                                                          \
		return P##upload_params(dev, m, err, errlen);                                      \
	}                                                                                          \
	static const struct cuda_ops TABLE = {                                                     \
	    NAME,                                                                                  \
	    TABLE##_create,                                                                        \
	    TABLE##_destroy,                                                                       \
	    TABLE##_zero_grad,                                                                     \
	    TABLE##_forward,                                                                       \
	    TABLE##_backward,                                                                      \
	    TABLE##_grad_norm,                                                                     \
	    TABLE##_adamw,                                                                         \
	    TABLE##_moments,                                                                       \
	    TABLE##_download_params,                                                               \
	    TABLE##_upload_params,                                                                 \
	};

CUDA_OPS(ops_gpu, "cuda", ssmf_cuda_, struct ssmf_cuda)
CUDA_OPS(ops_emulated, "cuda-emulated", ssmf_cxh_, struct ssmf_cxh)

struct cuda_ctx {
	const struct cuda_ops *ops;
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
	    c->ops->moments(c->dev, c->opt->m, c->opt->v, 0, err, errlen) < 0)
		return -1;
	return 0;
}

static int cu_sync_from_host(void *ctx, char *err, size_t errlen)
{
	struct cuda_ctx *c = ctx;
	if (c->ops->upload_params(c->dev, c->m, err, errlen) < 0 ||
	    c->ops->moments(c->dev, c->opt->m, c->opt->v, 1, err, errlen) < 0)
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
	const struct cuda_ops *ops = emulated ? &ops_emulated : &ops_gpu;
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
