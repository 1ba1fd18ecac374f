/* devices.h - where the model runs: the device names, parsed in one place, and the CUDA
 * API as one table over its two implementations, the GPU (ssm_cuda.h) and the host
 * emulation of the same kernels (cx.h), so training and scoring drive either alike; and
 * the engine of each device. */
#ifndef SSMF_DEVICES_H
#define SSMF_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "cuda/grad_ring.h"
#include "cuda/ssm_cuda.h"
#include "ssm/engine.h"

/* id, name, hidden (accepted, not listed: cuda-emulated is for tests, the kernels' code
 * run on the CPU). */
#define SSMF_DEVICES(X)                                                                            \
	X(CPU, "cpu", 0)                                                                           \
	X(CUDA, "cuda", 0)                                                                         \
	X(CUDA_EMULATED, "cuda-emulated", 1)

enum ssmf_device {
#define SSMF_DEVICE_ENUM(id, name, hidden) SSMF_DEVICE_##id,
	SSMF_DEVICES(SSMF_DEVICE_ENUM)
#undef SSMF_DEVICE_ENUM
};

/* 0 and *d, or -1 for a name that is not a device. */
int ssmf_device_parse(const char *name, enum ssmf_device *d);
const char *ssmf_device_name(enum ssmf_device d);

/* The CUDA API over an opaque context (struct ssmf_cuda or struct ssmf_cxh). */
struct ssmf_cuda_api {
	const char *name; /* the device's name */
	int (*create)(void **ctx, const struct ssmf_model *m, const struct ssmf_cuda_opts *o,
	              char *err, size_t errlen);
	void (*destroy)(void *ctx);
	int (*zero_grad)(void *ctx, char *err, size_t errlen);
	/* training over several processes (train/dist.h): the gradients out and in, and the
	 * whole batch's loss denominators for a share of it */
	int (*download_grads)(void *ctx, ssmf_real *g, char *err, size_t errlen);
	int (*upload_grads)(void *ctx, const ssmf_real *g, char *err, size_t errlen);
	int (*loss_norm)(void *ctx, long n_pred, long n_lab, char *err, size_t errlen);
	/* sequence mode from the initial state (a batch with states is refused) */
	int (*forward)(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
	               size_t errlen);
	int (*backward)(void *ctx, char *err, size_t errlen);
	int (*grad_norm)(void *ctx, double *norm, char *err, size_t errlen);
	int (*adamw)(void *ctx, const struct ssmf_cuda_adamw_hp *hp, char *err, size_t errlen);
	int (*adamw_moments)(void *ctx, ssmf_real *m, ssmf_real *v, int to_device, char *err,
	                     size_t errlen);
	int (*download_params)(void *ctx, struct ssmf_model *m, char *err, size_t errlen);
	int (*upload_params)(void *ctx, const struct ssmf_model *m, char *err, size_t errlen);
	int (*step)(void *ctx, const struct ssmf_record *rec, const int32_t *slot, int n,
	            ssmf_real *nll, char *err, size_t errlen);
	int (*step_reset)(void *ctx, const int32_t *slots, int n, char *err, size_t errlen);
	/* the gradient chain's transport on this device (cuda/grad_ring.h) */
	int (*grad_ring)(void *ctx, const struct ssmf_reducer *red, struct ssmf_grad_transport *t,
	                 char *err, size_t errlen);
};

extern const struct ssmf_cuda_api ssmf_cuda_api_gpu;
extern const struct ssmf_cuda_api ssmf_cuda_api_emulated;

/* The CUDA API of a device; NULL for the CPU. */
const struct ssmf_cuda_api *ssmf_cuda_api_for(enum ssmf_device d);

/* The engine (ssm/engine.h) of device d over m: the CPU's, or the CUDA engine over the
 * device's API. 0, or a negative enum ssmf_engine_rc with err. */
int ssmf_engine_open(struct ssmf_engine *e, enum ssmf_device d, const struct ssmf_model *m,
                     const struct ssmf_engine_opts *o, char *err, size_t errlen);
/* The CUDA engine over one API (cuda/engine_cuda.c). */
int ssmf_engine_cuda_open(struct ssmf_engine *e, const struct ssmf_cuda_api *api,
                          const struct ssmf_model *m, const struct ssmf_engine_opts *o, char *err,
                          size_t errlen);

#endif
