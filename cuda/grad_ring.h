/* grad_ring.h - the gradient chain of a distributed `--device cuda` run, on the device.
 *
 * Every process holds its share's gradient in its device's gradient buffer. The chain adds
 * them in rank order, as train/dist.h does on the host: rank 0 adds its gradient to zero
 * and sends the partial sum to rank 1, which receives it, adds its own and sends it on;
 * the last rank broadcasts the total. So the sum is ((0 + g0) + g1) + ... + g(N-1),
 * element by element, whatever the transport: the bits of the host chain, for every N.
 * The gradient travels in chunks, so that rank r + 1 adds chunk c while rank r adds
 * chunk c + 1.
 *
 * The chain (grad_ring.c) is one piece of code over a transport, a small table of calls on
 * device buffers: NCCL between GPUs (grad_ring_nccl.cu, in the CUDA module, with the
 * communicator made over MPI by grad_ring_gpu.c), and for the host emulation of the
 * kernels the same messages through the job's MPI on host buffers (grad_ring_emulated.c).
 * Plain C. */
#ifndef SSMF_CUDA_GRAD_RING_H
#define SSMF_CUDA_GRAD_RING_H

#include <stddef.h>

#include "ssm/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Calls on device buffers of floats (counts in elements), queued in order; each returns
 * 0 or a negative code with a one-line message (the engine ends the job on any: a peer
 * may be waiting for the message). An asynchronous transport may report an error only at
 * finish. */
struct ssmf_grad_transport {
	void *user;
	int rank, size; /* this process, the job's processes (size > 1) */
	float *grads;   /* the device's gradient (n): the chain sums into it in place */
	size_t n;
	float *scratch; /* chunk elements on the device: the partial sum received */
	size_t chunk;   /* elements per message of the chain */
	int (*send)(void *user, const float *buf, size_t count, int peer, char *err, size_t errlen);
	int (*recv)(void *user, float *buf, size_t count, int peer, char *err, size_t errlen);
	/* buf (count) on every process becomes root's */
	int (*broadcast)(void *user, float *buf, size_t count, int root, char *err, size_t errlen);
	/* dst[i] = partial[i] + mine[i], in that order (partial NULL: 0.0f + mine[i], as the
	 * host chain's first rank adds to a zeroed sum); dst may be mine */
	int (*add)(void *user, float *dst, const float *partial, const float *mine, size_t count,
	           char *err, size_t errlen);
	/* wait for everything queued: the gradient is the total when it returns 0 */
	int (*finish)(void *user, char *err, size_t errlen);
	void (*close)(void *user);
};

/* The chain over t: t->grads becomes the rank-order sum on every process. 0, or the
 * transport's error. *bytes_sent: what this process sent (the chain's chunks, and the
 * broadcast on the last rank). */
int ssmf_grad_ring_reduce(const struct ssmf_grad_transport *t, double *bytes_sent, char *err,
                          size_t errlen);

/* Opening a transport for a device context opened for training: 0 and *t;
 * SSMF_CUDA_E_NOBUILD when the device has none (a GPU build without NCCL: the engine
 * stages its gradients through the host instead); or, once any process failed, the
 * reducer's negative return with err (the outcome agreed with red->agree, or a failed
 * broadcast). Every process of the job calls it at the same point; the reducer's host
 * calls carry what the transport needs between them (the emulation's messages, NCCL's
 * unique id). */
struct ssmf_cxh;
struct ssmf_cuda;
int ssmf_cxh_grad_ring(struct ssmf_cxh *c, const struct ssmf_reducer *red,
                       struct ssmf_grad_transport *t, char *err, size_t errlen);
int ssmf_cuda_grad_ring(struct ssmf_cuda *c, const struct ssmf_reducer *red,
                        struct ssmf_grad_transport *t, char *err, size_t errlen);

/* What the CUDA module exports for ssmf_cuda_grad_ring when it was built with NCCL
 * (grad_ring_nccl.cu), looked up by name (ssmf_cuda_module_symbol). Three steps, so that
 * the processes agree between them and none is left alone in NCCL's collective join. */
#define SSMF_NCCL_ID_BYTES 128 /* NCCL_UNIQUE_ID_BYTES */
/* *t for c's device (its scratch allocated, no communicator yet; t->close frees it) */
typedef int ssmf_nccl_prepare_fn(struct ssmf_cuda *c, int rank, int size,
                                 struct ssmf_grad_transport *t, char *err, size_t errlen);
/* rank 0: a new unique id for the job's communicator */
typedef int ssmf_nccl_id_fn(void *id, char *err, size_t errlen);
/* every process: t joins the communicator of id (all processes together) */
typedef int ssmf_nccl_join_fn(struct ssmf_grad_transport *t, const void *id, char *err,
                              size_t errlen);
#define SSMF_NCCL_PREPARE_SYMBOL "ssmf_cuda_nccl_prepare"
#define SSMF_NCCL_ID_SYMBOL      "ssmf_cuda_nccl_id"
#define SSMF_NCCL_JOIN_SYMBOL    "ssmf_cuda_nccl_join"

/* A symbol of the CUDA module (ssm_cuda_loader.c): NULL when there is no module or it
 * lacks the name. */
void *ssmf_cuda_module_symbol(const char *name);

#ifdef __cplusplus
}
#endif

#endif
