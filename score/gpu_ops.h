/* gpu_ops.h - the scorer's GPU backends behind one table: the CUDA kernels on a device, or
 * the same kernels' code emulated on the host (cuda/cx.h), which lets the scorer's GPU
 * path run and be tested on machines without a GPU. */
#ifndef SSMF_GPU_OPS_H
#define SSMF_GPU_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "cuda/ssm_cuda.h"

struct ssmf_gpu_ops {
	const char *name;
	int (*create)(void **ctx, const struct ssmf_model *m, const struct ssmf_cuda_opts *o,
	              char *err, size_t errlen);
	void (*destroy)(void *ctx);
	int (*forward)(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
	               size_t errlen);
	int (*step)(void *ctx, const struct ssmf_record *rec, const int32_t *slot, int n,
	            ssmf_real *nll, char *err, size_t errlen);
	int (*step_reset)(void *ctx, const int32_t *slots, int n, char *err, size_t errlen);
};

extern const struct ssmf_gpu_ops ssmf_gpu_cuda;
extern const struct ssmf_gpu_ops ssmf_gpu_emulated;

#endif
