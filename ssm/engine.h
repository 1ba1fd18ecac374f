/* engine.h - where the model's arithmetic runs, behind one interface. The CPU engine
 * (engine_cpu.c) works on the model's host buffers; the CUDA engine (cuda/engine_cuda.c)
 * keeps parameters, gradients and moments on the GPU, or in the host emulation of its
 * kernels, and copies them to the host on request. Training uses the sequence calls,
 * the gradients, AdamW and the syncs; scoring infer and step. ssmf_engine_open (cuda/devices.h)
 * picks one by device. */
#ifndef SSMF_ENGINE_H
#define SSMF_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "ssm/adamw.h"
#include "ssm/ssm.h"

/* The processes of a job that share each training batch (train/dist.h adapts MPI to this).
 * An engine opened with one computes its process's share of each forward_backward and hands
 * the communication to these calls; their negative returns (never -1) it passes on
 * unchanged. */
typedef void (*ssmf_reducer_add_fn)(void *user, size_t i0, size_t i1, ssmf_real *dst);
/* Where the CUDA engine adds the processes' gradients, in the same order either way. */
enum ssmf_chain_place {
	SSMF_CHAIN_AUTO = 0, /* on the device where it has a transport (NCCL), else on the host */
	SSMF_CHAIN_HOST,     /* copied to the host and added by reduce_grads */
	SSMF_CHAIN_DEVICE,   /* on the device; an error where it has no transport */
};
struct ssmf_reducer {
	void *user;
	int rank, size; /* size > 1 */
	/* this process's share [*lo, *hi) of n items: contiguous, a function of (n, rank, size) */
	void (*share)(void *user, int n, int *lo, int *hi);
	/* the outcome every process agrees on, after a step some may fail alone: failed is
	 * this process's (err says why); 0, or negative when any process failed */
	int (*agree)(void *user, int failed, char *err, size_t errlen);
	/* grads (n) becomes the sum, rank by rank, of what each process's `add` contributes to
	 * it, starting from rank 0's zero; every process receives it */
	int (*reduce_grads)(void *user, ssmf_real *grads, size_t n, ssmf_reducer_add_fn add,
	                    void *add_user, char *err, size_t errlen);
	/* v (n) becomes the element-wise sum over the processes, each element non-zero on one
	 * process at most (exact in any order) */
	int (*sum_disjoint)(void *user, double *v, int n, char *err, size_t errlen);
	/* Bytes between processes, for the CUDA engine's chain on the device (cuda/grad_ring.h):
	 * the emulation's messages, NCCL's unique id. send and recv pair with the peer's
	 * (process order, one at a time); broadcast gives every process root's buf. */
	int (*send)(void *user, const void *buf, size_t bytes, int peer, char *err, size_t errlen);
	int (*recv)(void *user, void *buf, size_t bytes, int peer, char *err, size_t errlen);
	int (*broadcast)(void *user, void *buf, size_t bytes, int root, char *err, size_t errlen);
	/* the seconds and bytes sent of a reduction the engine ran itself, for the job's totals */
	void (*account)(void *user, double seconds, double bytes_sent);
	/* what the engine returns when its own transport failed between the processes (NCCL):
	 * like the reducer's failures, the job cannot go on (negative, not -1) */
	int lost_rc;
	enum ssmf_chain_place chain; /* where the CUDA engine adds (train/dist.h: the user's) */
};

struct ssmf_engine {
	const char *name; /* the device's name */
	void *ctx;
	/* forward only (validation, scoring) */
	int (*infer)(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out, char *err,
	             size_t errlen);
	/* zero the gradients, then forward and backward over one batch (training engines); with
	 * a reducer (ssmf_engine_opts), this process's share of the batch, the gradients and
	 * losses of the whole batch on every process. 0, -1 (err), or a reducer's return. */
	int (*forward_backward)(void *ctx, const struct ssmf_batch *b, struct ssmf_outputs *out,
	                        char *err, size_t errlen);
	/* global L2 norm of the gradients of the last forward_backward */
	int (*grad_norm)(void *ctx, double *norm, char *err, size_t errlen);
	/* AdamW update: the number of parameters that became non-finite (>= 0), or -1 with err.
	 * A device engine, which does not see the parameters on the host, answers 0; the
	 * caller checks the host copy whenever it makes one (sync_to_host), and non-finite
	 * parameters show in the next step's loss. */
	long (*adamw)(void *ctx, const struct ssmf_adamw_step *s, char *err, size_t errlen);
	/* step mode (engines opened with step_n): rec[i] is the next packet of flow i, whose
	 * state is on the host, state[i] (the CPU engine), or on the device in slot slot[i]
	 * (the CUDA engine); nll (n, SSMF_N_COMP) as ssmf_step. n <= step_n. */
	int (*step)(void *ctx, const struct ssmf_record *rec, ssmf_real *const *state,
	            const int32_t *slot, int n, ssmf_real *nll, char *err, size_t errlen);
	/* the device's slots back to the initial state (a host state is its owner's to reset:
	 * ssmf_step_state_reset); NULL for the CPU engine */
	int (*step_reset)(void *ctx, const int32_t *slots, int n, char *err, size_t errlen);
	/* make the host copies (the model's parameters, the optimizer's moments) current */
	int (*sync_to_host)(void *ctx, char *err, size_t errlen);
	/* after the host copies were changed (a resumed run), send them to the device */
	int (*sync_from_host)(void *ctx, char *err, size_t errlen);
	void (*free)(void *ctx);
};

struct ssmf_engine_opts {
	int max_B, max_T; /* the largest batch (0: no sequence mode) */
	int step_n;       /* step mode: packets per call (0: no step mode) */
	int step_flows;   /* step mode on a device: the flow slots it keeps */
	/* training: the model being trained (the engine's model itself, writable) and its
	 * optimizer state, for forward_backward, grad_norm, adamw and the syncs; both NULL:
	 * inference only (infer) */
	struct ssmf_model *train;
	struct ssmf_adamw *opt;
	/* training in a job of several processes (NULL: one); the CUDA engine then takes the
	 * device of index `device` modulo the visible ones (a process's rank on its host) */
	const struct ssmf_reducer *reducer;
	int device;
};

/* Negative returns of the open functions (err says why). */
enum ssmf_engine_rc {
	SSMF_ENGINE_E_CONFIG = -1,    /* a model the engine does not support */
	SSMF_ENGINE_E_NO_DEVICE = -2, /* built without CUDA, or no usable device */
	SSMF_ENGINE_E_INTERNAL = -3,  /* out of host or device memory, a failed call */
};

/* The CPU engine over m (owned by the caller). 0, or a negative enum ssmf_engine_rc. */
int ssmf_engine_cpu_open(struct ssmf_engine *e, const struct ssmf_model *m,
                         const struct ssmf_engine_opts *o, char *err, size_t errlen);
void ssmf_engine_close(struct ssmf_engine *e);

#endif
