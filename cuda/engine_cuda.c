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
 * For inference only (no optimizer) the same context serves infer and step mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/devices.h"
#include "ssm/engine.h"

struct cuda_ctx {
	const struct ssmf_cuda_api *ops;
	void *dev;
	struct ssmf_model *train; /* the model being trained (NULL: inference only) */
	struct ssmf_adamw *opt;
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
	if (c && c->dev)
		c->ops->destroy(c->dev);
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
	/* the one device allocation: sequence mode for the largest batch, step mode for
	 * step_n packets of step_flows flows; the parameters are uploaded, the moments start
	 * at zero */
	struct ssmf_cuda_opts co = {.device = 0,
	                            .max_B = o->max_B,
	                            .max_T = o->max_T,
	                            .step_n = o->step_n,
	                            .step_flows = o->step_flows};
	char why[512] = "";
	int rc = ops->create(&c->dev, m, &co, why, sizeof why);
	if (rc < 0) {
		free(c);
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
