/* ssm_cuda.h - the model on an NVIDIA GPU: plain C API for train, score and bench.
 *
 * One context per run holds ONE device allocation (the arena), sized at creation from the
 * model config and the largest batch: parameters, gradients, AdamW moments, sequence-mode
 * activations for max_B flows x max_T packets, and the step-mode state of step_flows flows
 * plus a workspace for step_n packets. Nothing is allocated on the device after creation.
 *
 * Every function returns 0 or a negative SSMF_CUDA_E_* code with a one-line message in the
 * caller's buffer (library code never prints). When ssmflow was built without nvcc, the same
 * functions exist and return SSMF_CUDA_E_NOBUILD ("this ssmflow was built without CUDA"), so
 * callers link unconditionally and test the return value.
 *
 * Typical training loop (sequence mode):
 *     ssmf_cuda_new(&c, model, &opts, err, sizeof err);   // uploads the parameters
 *     for each batch:
 *         ssmf_cuda_zero_grad(c, ...);
 *         ssmf_cuda_forward(c, &batch, &out, ...);        // out.loss, out.nll, out.score ...
 *         ssmf_cuda_backward(c, ...);                     // grads stay on the device
 *         ssmf_cuda_grad_norm(c, &norm, ...);             // for clipping
 *         ssmf_cuda_adamw(c, &hp, ...);                   // on-device AdamW
 *     ssmf_cuda_download_params(c, model, ...);           // before ssmf_checkpoint_save
 * or, with the CPU optimizer: ssmf_cuda_download_grads(c, ssmf_model_grads(model), ...) after
 * backward and ssmf_cuda_upload_params(c, model, ...) after the CPU update.
 *
 * Scoring (live pipeline, step mode): flows are slots 0..step_flows-1 chosen by the caller;
 * ssmf_cuda_step(c, rec, slot, n, nll, logits, ...) runs one packet for each of n <= step_n
 * distinct slots as one CUDA Graph launch (captured at the first call; padding rows skipped);
 * ssmf_cuda_step_reset(c, slots, n, ...) forgets flows whose slots are reused.
 *
 * Numbers: float32; sequence and step mode match the CPU reference within the tolerances of
 * docs/cuda.md. opts.tf32 lets cuBLAS use TF32 tensor cores for the projections (faster on
 * sm_80+, about 1e-3 relative error instead of 1e-5).
 */
#ifndef SSMF_SSM_CUDA_H
#define SSMF_SSM_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "ssm/ssm.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ssmf_cuda_code {
	SSMF_CUDA_OK = 0,
	SSMF_CUDA_E_FAIL = -1,    /* bad argument or a CUDA/cuBLAS call failed (message says) */
	SSMF_CUDA_E_NOBUILD = -2, /* this ssmflow was built without CUDA */
	SSMF_CUDA_E_NODEV = -3,   /* no usable CUDA device (no GPU, no driver, bad index) */
	SSMF_CUDA_E_OOM = -4,     /* the arena does not fit in device memory */
	SSMF_CUDA_E_CONFIG = -5,  /* model config the kernels do not support (d_state > 64) */
};

struct ssmf_cuda_opts {
	int device;      /* CUDA device index (0) */
	int max_B;       /* sequence mode: most flows per batch (0: no sequence mode) */
	int max_T;       /* sequence mode: most packets per flow */
	int step_n;      /* step mode: packets per call (0: no step mode), e.g. 65536 */
	int step_flows;  /* step mode: flow slots kept on the device */
	int tf32;        /* 1: TF32 tensor-core GEMMs (see the tolerances) */
	int copy_logits; /* 1: ssmf_cuda_forward also copies logits (B,T,42) back */
};

struct ssmf_cuda;

/* Device count (> 0), or a negative code with the reason (built without CUDA, no device). */
int ssmf_cuda_available(char *err, size_t errlen);
/* Short description of device `dev` ("NVIDIA H100 80GB HBM3, sm_90, 79 GiB"). */
int ssmf_cuda_device_name(int dev, char *buf, size_t len);

/* Allocates the arena and uploads m's parameters. *out is NULL on error. */
int ssmf_cuda_new(struct ssmf_cuda **out, const struct ssmf_model *m,
                  const struct ssmf_cuda_opts *o, char *err, size_t errlen);
void ssmf_cuda_free(struct ssmf_cuda *c);
size_t ssmf_cuda_arena_bytes(const struct ssmf_cuda *c);

int ssmf_cuda_upload_params(struct ssmf_cuda *c, const struct ssmf_model *m, char *err,
                            size_t errlen);
int ssmf_cuda_download_params(struct ssmf_cuda *c, struct ssmf_model *m, char *err, size_t errlen);

/* Sequence mode, same contract as ssmf_forward: fills *out; its arrays (nll, score,
 * score_comp, cls_logit, logits when opts.copy_logits, else NULL) are host buffers owned by
 * c, valid until the next forward. */
int ssmf_cuda_forward(struct ssmf_cuda *c, const struct ssmf_batch *batch, struct ssmf_outputs *out,
                      char *err, size_t errlen);
/* Backward of the last forward's loss; adds into the device gradient buffer. */
int ssmf_cuda_backward(struct ssmf_cuda *c, char *err, size_t errlen);
int ssmf_cuda_zero_grad(struct ssmf_cuda *c, char *err, size_t errlen);
/* grads: ssmf_model_num_params floats, ssmf_model_grads' layout (written, not added). */
int ssmf_cuda_download_grads(struct ssmf_cuda *c, ssmf_real *grads, char *err, size_t errlen);
/* The reverse: the device gradients become grads (the sum over the processes of a
 * distributed run, train/dist.h). */
int ssmf_cuda_upload_grads(struct ssmf_cuda *c, const ssmf_real *grads, char *err, size_t errlen);
/* The next forward's batch is part of a larger one: its losses (and so the gradients of
 * the backward) are divided by the larger batch's predicted packets and labelled flows
 * instead of its own, so that the parts add up to the whole. For that forward only;
 * n_pred 0 leaves the batch's own. */
int ssmf_cuda_loss_norm(struct ssmf_cuda *c, long n_pred, long n_lab, char *err, size_t errlen);
/* L2 norm of the device gradients (fixed-order reduction, summed in double on the host). */
int ssmf_cuda_grad_norm(struct ssmf_cuda *c, double *norm, char *err, size_t errlen);

struct ssmf_cuda_adamw_hp {
	double lr, beta1, beta2, eps, weight_decay; /* decay only on tensors with info.decay */
	long step;                                  /* 1 for the first update */
	double grad_scale;                          /* multiply grads first (clipping); 1 = none */
};
/* One AdamW update on the device (PyTorch semantics); moments start at zero. */
int ssmf_cuda_adamw(struct ssmf_cuda *c, const struct ssmf_cuda_adamw_hp *hp, char *err,
                    size_t errlen);
/* Moments for checkpoints: to_device 0 copies them out into m, v (num_params each), 1 in. */
int ssmf_cuda_adamw_moments(struct ssmf_cuda *c, ssmf_real *m, ssmf_real *v, int to_device,
                            char *err, size_t errlen);

/* Step mode: rec[i] is the next packet of the flow in slot[i] (distinct, 0..step_flows-1),
 * n <= step_n. nll (n, SSMF_N_COMP), logits (n, SSMF_N_LOGITS): as ssmf_step; NULL-able. */
int ssmf_cuda_step(struct ssmf_cuda *c, const struct ssmf_record *rec, const int32_t *slot, int n,
                   ssmf_real *nll, ssmf_real *logits, char *err, size_t errlen);
/* Forget flows: n slots, or all slots when slots is NULL. */
int ssmf_cuda_step_reset(struct ssmf_cuda *c, const int32_t *slots, int n, char *err,
                         size_t errlen);
/* A slot's state in ssmf_step's layout (ssmf_step_state_size floats): get (to_device 0) or
 * set (1). For tests and for moving a flow between CPU and GPU. */
int ssmf_cuda_step_state(struct ssmf_cuda *c, int slot, ssmf_real *state, int to_device, char *err,
                         size_t errlen);

/* For selftest and tests (cuda/cx.h has the rest): poisons the activations and step
 * workspace with NaN, and copies one named device tensor to the host. */
int ssmf_cuda_poison(struct ssmf_cuda *c, char *err, size_t errlen);
long ssmf_cuda_fetch(struct ssmf_cuda *c, const char *name, int layer, float *dst, size_t cap,
                     char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
