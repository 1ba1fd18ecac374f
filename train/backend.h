/* backend.h - where the arithmetic of training runs. The loop only talks to this
 * interface: the CPU backend (backend_cpu.c) works on the model's host buffers; the CUDA
 * backend (backend_cuda.c) keeps parameters, gradients and moments on the GPU (or in the
 * host emulation of its kernels) and copies them to the host for checkpoints. */
#ifndef SSMF_TRAIN_BACKEND_H
#define SSMF_TRAIN_BACKEND_H

#include <stddef.h>

#include "ssm/ssm.h"
#include "train/adamw.h"
#include "train/dist.h"

struct train_backend {
	const char *name;
	void *ctx;
	/* zero the gradients, then forward and backward over one batch (the whole batch's
	 * gradients on every process of a distributed run); 0 or a negative enum train_rc */
	int (*forward_backward)(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out,
	                        char *err, size_t errlen);
	/* forward only (validation) */
	int (*forward)(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
	               size_t errlen);
	/* global L2 norm of the gradients of the last forward_backward */
	int (*grad_norm)(void *ctx, double *norm, char *err, size_t errlen);
	/* AdamW update: the number of parameters that became non-finite (>= 0), or -1 with err.
	 * A device backend that does not see the parameters on the host answers 0; the loop
	 * checks the host copy whenever it makes one (sync_to_host), and non-finite
	 * parameters show in the next step's loss. */
	long (*optimizer_step)(void *ctx, const struct train_adamw_step *s, char *err,
	                       size_t errlen);
	/* make the host copies (the model's parameter buffer, the optimizer's moments)
	 * current, before a checkpoint is written or the parameters are read */
	int (*sync_to_host)(void *ctx, char *err, size_t errlen);
	/* after the host copies were changed (resume), send them to the device */
	int (*sync_from_host)(void *ctx, char *err, size_t errlen);
	void (*free)(void *ctx);
};

/* The backend for `device` over model m and optimizer o (both owned by the caller), for
 * batches up to max_B x max_T: "cpu", "cuda" (the GPU, cuda/ssm_cuda.h) or
 * "cuda-emulated" (the CUDA kernels' code run on the host, cuda/cx.h; for tests).
 * dist (NULL: one process): the job whose processes share each batch.
 * 0, or a negative enum train_rc with err: TRAIN_E_USAGE (unknown device, a model the
 * kernels do not support; err starts with "--device"), TRAIN_E_NO_CUDA (built without CUDA, no
 * device), TRAIN_E_INTERNAL (out of host or device memory, a failed call). */
int train_backend_open(struct train_backend *be, const char *device, struct ssmf_model *m,
                       struct train_adamw *o, struct train_dist *dist, int max_B, int max_T,
                       char *err, size_t errlen);
void train_backend_close(struct train_backend *be);

/* The two implementations behind train_backend_open. emulated: 0 the GPU, 1 the host
 * emulation. */
int train_backend_cpu_open(struct train_backend *be, struct ssmf_model *m, struct train_adamw *o,
                           struct train_dist *dist, int max_B, int max_T, char *err, size_t errlen);
int train_backend_cuda_open(struct train_backend *be, int emulated, struct ssmf_model *m,
                            struct train_adamw *o, struct train_dist *dist, int max_B, int max_T,
                            char *err, size_t errlen);

#endif
