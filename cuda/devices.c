#include "cuda/devices.h"

#include <stdio.h>
#include <string.h>

#include "cuda/cx.h"

static const char *const device_names[] = {
#define SSMF_DEVICE_NAME(id, name, hidden) name,
    SSMF_DEVICES(SSMF_DEVICE_NAME)
#undef SSMF_DEVICE_NAME
};

int ssmf_device_parse(const char *name, enum ssmf_device *d)
{
	for (size_t i = 0; i < sizeof device_names / sizeof *device_names; i++)
		if (strcmp(name, device_names[i]) == 0) {
			*d = (enum ssmf_device)i;
			return 0;
		}
	return -1;
}

const char *ssmf_device_name(enum ssmf_device d)
{
	return device_names[d];
}

const struct ssmf_cuda_api *ssmf_cuda_api_for(enum ssmf_device d)
{
	switch (d) {
	case SSMF_DEVICE_CUDA:
		return &ssmf_cuda_api_gpu;
	case SSMF_DEVICE_CUDA_EMULATED:
		return &ssmf_cuda_api_emulated;
	default:
		return NULL;
	}
}

int ssmf_engine_open(struct ssmf_engine *e, enum ssmf_device d, const struct ssmf_model *m,
                     const struct ssmf_engine_opts *o, char *err, size_t errlen)
{
	const struct ssmf_cuda_api *api = ssmf_cuda_api_for(d);
	return api ? ssmf_engine_cuda_open(e, api, m, o, err, errlen)
	           : ssmf_engine_cpu_open(e, m, o, err, errlen);
}

/* The sequence path starts every flow from the initial state: batches that carry states
 * (chunks of long flows) are the CPU's. */
static int refuse_states(const struct ssmf_batch *b, char *err, size_t errlen)
{
	if (!b->state)
		return 0;
	snprintf(err, errlen, "the GPU sequence path does not take initial states");
	return -1;
}

/* One table per implementation; P is its function prefix, T its context type. */
#define CUDA_API(TABLE, NAME, P, T)                                                                \
	static int TABLE##_create(void **ctx, const struct ssmf_model *m,                          \
	                          const struct ssmf_cuda_opts *o, char *err, size_t errlen)        \
	{                                                                                          \
		T *c = NULL;                                                                       \
		int rc = P##new (&c, m, o, err, errlen);                                           \
		*ctx = c;                                                                          \
		return rc;                                                                         \
	}                                                                                          \
	static void TABLE##_destroy(void *ctx)                                                     \
	{                                                                                          \
		P##free(ctx);                                                                      \
	}                                                                                          \
	static int TABLE##_zero_grad(void *ctx, char *err, size_t errlen)                          \
	{                                                                                          \
		return P##zero_grad(ctx, err, errlen);                                             \
	}                                                                                          \
	static int TABLE##_download_grads(void *ctx, ssmf_real *g, char *err, size_t errlen)       \
	{                                                                                          \
		return P##download_grads(ctx, g, err, errlen);                                     \
	}                                                                                          \
	static int TABLE##_upload_grads(void *ctx, const ssmf_real *g, char *err, size_t errlen)   \
	{                                                                                          \
		return P##upload_grads(ctx, g, err, errlen);                                       \
	}                                                                                          \
	static int TABLE##_loss_norm(void *ctx, long n_pred, long n_lab, char *err, size_t errlen) \
	{                                                                                          \
		return P##loss_norm(ctx, n_pred, n_lab, err, errlen);                              \
	}                                                                                          \
	static int TABLE##_forward(void *ctx, const struct ssmf_batch *b,                          \
	                           struct ssmf_outputs *out, char *err, size_t errlen)             \
	{                                                                                          \
		if (refuse_states(b, err, errlen))                                                 \
			return -1;                                                                 \
		return P##forward(ctx, b, out, err, errlen);                                       \
	}                                                                                          \
	static int TABLE##_backward(void *ctx, char *err, size_t errlen)                           \
	{                                                                                          \
		return P##backward(ctx, err, errlen);                                              \
	}                                                                                          \
	static int TABLE##_grad_norm(void *ctx, double *norm, char *err, size_t errlen)            \
	{                                                                                          \
		return P##grad_norm(ctx, norm, err, errlen);                                       \
	}                                                                                          \
	static int TABLE##_adamw(void *ctx, const struct ssmf_cuda_adamw_hp *hp, char *err,        \
	                         size_t errlen)                                                    \
	{                                                                                          \
		return P##adamw(ctx, hp, err, errlen);                                             \
	}                                                                                          \
	static int TABLE##_adamw_moments(void *ctx, ssmf_real *m, ssmf_real *v, int to_device,     \
	                                 char *err, size_t errlen)                                 \
	{                                                                                          \
		return P##adamw_moments(ctx, m, v, to_device, err, errlen);                        \
	}                                                                                          \
	static int TABLE##_download_params(void *ctx, struct ssmf_model *m, char *err,             \
	                                   size_t errlen)                                          \
	{                                                                                          \
		return P##download_params(ctx, m, err, errlen);                                    \
	}                                                                                          \
	static int TABLE##_upload_params(void *ctx, const struct ssmf_model *m, char *err,         \
	                                 size_t errlen)                                            \
	{                                                                                          \
		return P##upload_params(ctx, m, err, errlen);                                      \
	}                                                                                          \
	static int TABLE##_step(void *ctx, const struct ssmf_record *rec, const int32_t *slot,     \
	                        int n, ssmf_real *nll, char *err, size_t errlen)                   \
	{                                                                                          \
		return P##step(ctx, rec, slot, n, nll, NULL, err, errlen);                         \
	}                                                                                          \
	static int TABLE##_step_reset(void *ctx, const int32_t *slots, int n, char *err,           \
	                              size_t errlen)                                               \
	{                                                                                          \
		return P##step_reset(ctx, slots, n, err, errlen);                                  \
	}                                                                                          \
	static int TABLE##_grad_ring(void *ctx, const struct ssmf_reducer *red,                    \
	                             struct ssmf_grad_transport *t, char *err, size_t errlen)      \
	{                                                                                          \
		return P##grad_ring(ctx, red, t, err, errlen);                                     \
	}                                                                                          \
	const struct ssmf_cuda_api TABLE = {                                                       \
	    NAME,                                                                                  \
	    TABLE##_create,                                                                        \
	    TABLE##_destroy,                                                                       \
	    TABLE##_zero_grad,                                                                     \
	    TABLE##_download_grads,                                                                \
	    TABLE##_upload_grads,                                                                  \
	    TABLE##_loss_norm,                                                                     \
	    TABLE##_forward,                                                                       \
	    TABLE##_backward,                                                                      \
	    TABLE##_grad_norm,                                                                     \
	    TABLE##_adamw,                                                                         \
	    TABLE##_adamw_moments,                                                                 \
	    TABLE##_download_params,                                                               \
	    TABLE##_upload_params,                                                                 \
	    TABLE##_step,                                                                          \
	    TABLE##_step_reset,                                                                    \
	    TABLE##_grad_ring,                                                                     \
	};

CUDA_API(ssmf_cuda_api_gpu, "cuda", ssmf_cuda_, struct ssmf_cuda)
CUDA_API(ssmf_cuda_api_emulated, "cuda-emulated", ssmf_cxh_, struct ssmf_cxh)
