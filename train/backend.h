/* backend.h - where the arithmetic of training runs. The loop only talks to this
 * interface, so a CUDA backend (parameters and moments on the GPU, copied to the host for
 * checkpoints) slots in beside the CPU one without touching the loop. */
#ifndef SSMF_TRAIN_BACKEND_H
#define SSMF_TRAIN_BACKEND_H

#include <stddef.h>

#include "ssm/ssm.h"
#include "train/adamw.h"

struct train_backend {
	const char *name;
	void *ctx;
	/* zero the gradients, then forward and backward over one batch */
	int (*forward_backward)(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out,
	                        char *err, size_t errlen);
	/* forward only (validation) */
	int (*forward)(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
	               size_t errlen);
	/* global L2 norm of the gradients of the last forward_backward */
	double (*grad_norm)(void *ctx);
	/* AdamW update; returns the number of parameters that became non-finite */
	long (*optimizer_step)(void *ctx, const struct train_adamw_step *s);
	/* make the host copies (the model's parameter buffer, the optimizer's moments)
	 * current, before a checkpoint is written */
	int (*sync_to_host)(void *ctx, char *err, size_t errlen);
	/* after the host copies were changed (resume), send them to the device */
	int (*sync_from_host)(void *ctx, char *err, size_t errlen);
	void (*free)(void *ctx);
};

/* The backend for `device` ("cpu"; "cuda" is not built yet) over model m and optimizer o
 * (both owned by the caller), for batches up to max_B x max_T. 0, or -1 with err. */
int train_backend_open(struct train_backend *be, const char *device, struct ssmf_model *m,
                       struct train_adamw *o, int max_B, int max_T, char *err, size_t errlen);
void train_backend_close(struct train_backend *be);

#endif
