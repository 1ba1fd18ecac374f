#include "score/gpu_ops.h"

#include <stdio.h>

#include "cuda/cx.h"

/* The GPU's sequence path starts every flow from the initial state: batches that carry
 * states (chunks of long flows) run on the CPU. */
static int refuse_states(const struct ssmf_batch *b, char *err, size_t errlen)
{
	if (!b->state)
		return 0;
	snprintf(err, errlen, "the GPU sequence path does not take initial states");
	return -1;
}

static int cuda_create(void **ctx, const struct ssmf_model *m, const struct ssmf_cuda_opts *o,
                       char *err, size_t errlen)
{
	struct ssmf_cuda *c = NULL;
	int rc = ssmf_cuda_new(&c, m, o, err, errlen);
	*ctx = c;
	return rc;
}

static void cuda_destroy(void *ctx)
{
	ssmf_cuda_free(ctx);
}

static int cuda_forward(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
                        size_t errlen)
{
	if (refuse_states(b, err, errlen))
		return -1;
	return ssmf_cuda_forward(ctx, b, out, err, errlen);
}

static int cuda_step(void *ctx, const struct ssmf_record *rec, const int32_t *slot, int n,
                     ssmf_real *nll, char *err, size_t errlen)
{
	return ssmf_cuda_step(ctx, rec, slot, n, nll, NULL, err, errlen);
}

static int cuda_step_reset(void *ctx, const int32_t *slots, int n, char *err, size_t errlen)
{
	return ssmf_cuda_step_reset(ctx, slots, n, err, errlen);
}

const struct ssmf_gpu_ops ssmf_gpu_cuda = {"cuda",       cuda_create, cuda_destroy,
                                           cuda_forward, cuda_step,   cuda_step_reset};

static int emu_create(void **ctx, const struct ssmf_model *m, const struct ssmf_cuda_opts *o,
                      char *err, size_t errlen)
{
	struct ssmf_cxh *c = NULL;
	int rc = ssmf_cxh_new(&c, m, o, err, errlen);
	*ctx = c;
	return rc;
}

static void emu_destroy(void *ctx)
{
	ssmf_cxh_free(ctx);
}

static int emu_forward(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
                       size_t errlen)
{
	if (refuse_states(b, err, errlen))
		return -1;
	return ssmf_cxh_forward(ctx, b, out, err, errlen);
}

static int emu_step(void *ctx, const struct ssmf_record *rec, const int32_t *slot, int n,
                    ssmf_real *nll, char *err, size_t errlen)
{
	return ssmf_cxh_step(ctx, rec, slot, n, nll, NULL, err, errlen);
}

static int emu_step_reset(void *ctx, const int32_t *slots, int n, char *err, size_t errlen)
{
	return ssmf_cxh_step_reset(ctx, slots, n, err, errlen);
}

const struct ssmf_gpu_ops ssmf_gpu_emulated = {"cuda-emulated", emu_create, emu_destroy,
                                               emu_forward,     emu_step,   emu_step_reset};
