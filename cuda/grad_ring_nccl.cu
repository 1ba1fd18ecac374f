/* grad_ring_nccl.cu - the transport of grad_ring.h between GPUs, in the CUDA module when
 * it is built with NCCL: ncclSend and ncclRecv along the chain, ncclBroadcast of the
 * total, and the add as a kernel, all queued on the context's stream after its backward,
 * so the chain costs no host round trip. NCCL only moves bytes here: the one add is ours,
 * in the chain's order, so the sum has the host chain's bits (float addition is IEEE's on
 * both, and nvcc flushes no denormals without --use_fast_math). */
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <type_traits>

#ifndef _Static_assert /* the C headers' checks, in C++ (as cuda/bodies.h) */
#define _Static_assert static_assert
#endif
#include "cuda/cx.h"
#include "cuda/grad_ring.h"

static_assert(sizeof(ncclUniqueId) == SSMF_NCCL_ID_BYTES, "the id the binary broadcasts");

/* Elements per message: 4 MiB of floats. Each NCCL call costs some microseconds to launch
 * and match, so a chunk is large: the default model's gradient (249 KB) is one message;
 * a gradient of many MiB is pipelined along the ranks. */
#define NCCL_CHUNK ((size_t)1 << 20)
#define ADD_BLOCK  256

struct nccl_ring {
	ncclComm_t comm; /* NULL until joined */
	cudaStream_t stream;
	int device, rank, size;
	float *scratch;
};

static int nccl_fail(ncclResult_t r, const char *call, char *err, size_t errlen)
{
	if (r == ncclSuccess)
		return 0;
	snprintf(err, errlen, "NCCL %s failed: %s", call, ncclGetErrorString(r));
	return SSMF_CUDA_E_FAIL;
}

static int cuda_fail(cudaError_t e, const char *what, char *err, size_t errlen)
{
	if (e == cudaSuccess)
		return 0;
	snprintf(err, errlen, "CUDA %s: %s", what, cudaGetErrorString(e));
	return e == cudaErrorMemoryAllocation ? SSMF_CUDA_E_OOM : SSMF_CUDA_E_FAIL;
}

static int ring_send(void *user, const float *buf, size_t count, int peer, char *err, size_t errlen)
{
	struct nccl_ring *r = (struct nccl_ring *)user;
	return nccl_fail(ncclSend(buf, count, ncclFloat, peer, r->comm, r->stream), "ncclSend", err,
	                 errlen);
}

static int ring_recv(void *user, float *buf, size_t count, int peer, char *err, size_t errlen)
{
	struct nccl_ring *r = (struct nccl_ring *)user;
	return nccl_fail(ncclRecv(buf, count, ncclFloat, peer, r->comm, r->stream), "ncclRecv", err,
	                 errlen);
}

static int ring_broadcast(void *user, float *buf, size_t count, int root, char *err, size_t errlen)
{
	struct nccl_ring *r = (struct nccl_ring *)user;
	return nccl_fail(ncclBroadcast(buf, buf, count, ncclFloat, root, r->comm, r->stream),
	                 "ncclBroadcast", err, errlen);
}

/* dst[i] = partial[i] + mine[i] (partial NULL: 0.0f + mine[i]), as grad_ring.h says */
__global__ void __launch_bounds__(ADD_BLOCK)
    ring_add_kernel(float *dst, const float *partial, const float *mine, size_t count)
{
	size_t i = (size_t)blockIdx.x * ADD_BLOCK + threadIdx.x;
	if (i < count)
		dst[i] = __fadd_rn(partial ? partial[i] : 0.0f, mine[i]);
}

static int ring_add(void *user, float *dst, const float *partial, const float *mine, size_t count,
                    char *err, size_t errlen)
{
	struct nccl_ring *r = (struct nccl_ring *)user;
	if (count == 0)
		return 0;
	unsigned blocks = (unsigned)((count + ADD_BLOCK - 1) / ADD_BLOCK);
	ring_add_kernel<<<blocks, ADD_BLOCK, 0, r->stream>>>(dst, partial, mine, count);
	return cuda_fail(cudaGetLastError(), "gradient chain add", err, errlen);
}

/* The queued chain done, and no error NCCL found on the way (a peer's failure shows as
 * ncclRemoteError or ncclSystemError here). */
static int ring_finish(void *user, char *err, size_t errlen)
{
	struct nccl_ring *r = (struct nccl_ring *)user;
	int rc = cuda_fail(cudaStreamSynchronize(r->stream), "gradient chain", err, errlen);
	ncclResult_t async = ncclSuccess;
	if (rc == 0 && (rc = nccl_fail(ncclCommGetAsyncError(r->comm, &async),
	                               "ncclCommGetAsyncError", err, errlen)) == 0)
		rc = nccl_fail(async, "gradient chain", err, errlen);
	return rc;
}

static void ring_close(void *user)
{
	struct nccl_ring *r = (struct nccl_ring *)user;
	if (!r)
		return;
	cudaSetDevice(r->device);
	if (r->comm)
		ncclCommDestroy(r->comm);
	if (r->scratch)
		cudaFree(r->scratch);
	free(r);
}

extern "C" int ssmf_cuda_nccl_prepare(struct ssmf_cuda *c, int rank, int size,
                                      struct ssmf_grad_transport *t, char *err, size_t errlen)
{
	size_t n = 0;
	void *stream = NULL;
	int device = 0;
	float *grads = ssmf_cuda_grads_on_device(c, &n, &stream, &device);
	struct nccl_ring *r = (struct nccl_ring *)calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return SSMF_CUDA_E_OOM;
	}
	r->stream = (cudaStream_t)stream;
	r->device = device;
	r->rank = rank;
	r->size = size;
	size_t chunk = n < NCCL_CHUNK ? (n ? n : 1) : NCCL_CHUNK;
	int rc = cuda_fail(cudaSetDevice(device), "set device", err, errlen);
	if (rc == 0)
		rc = cuda_fail(cudaMalloc((void **)&r->scratch, chunk * sizeof(float)),
		               "gradient chain buffer", err, errlen);
	if (rc < 0) {
		ring_close(r);
		return rc;
	}
	memset(t, 0, sizeof *t);
	t->user = r;
	t->rank = rank;
	t->size = size;
	t->grads = grads;
	t->n = n;
	t->scratch = r->scratch;
	t->chunk = chunk;
	t->send = ring_send;
	t->recv = ring_recv;
	t->broadcast = ring_broadcast;
	t->add = ring_add;
	t->finish = ring_finish;
	t->close = ring_close;
	return 0;
}

extern "C" int ssmf_cuda_nccl_id(void *id, char *err, size_t errlen)
{
	return nccl_fail(ncclGetUniqueId((ncclUniqueId *)id), "ncclGetUniqueId", err, errlen);
}

extern "C" int ssmf_cuda_nccl_join(struct ssmf_grad_transport *t, const void *id, char *err,
                                   size_t errlen)
{
	struct nccl_ring *r = (struct nccl_ring *)t->user;
	ncclUniqueId uid;
	memcpy(&uid, id, sizeof uid);
	int rc = cuda_fail(cudaSetDevice(r->device), "set device", err, errlen);
	if (rc == 0)
		rc = nccl_fail(ncclCommInitRank(&r->comm, r->size, uid, r->rank),
		               "ncclCommInitRank", err, errlen);
	if (rc < 0)
		r->comm = NULL;
	return rc;
}

/* the binary calls them through grad_ring.h's types */
static_assert(std::is_same<decltype(ssmf_cuda_nccl_prepare), ssmf_nccl_prepare_fn>::value, "");
static_assert(std::is_same<decltype(ssmf_cuda_nccl_id), ssmf_nccl_id_fn>::value, "");
static_assert(std::is_same<decltype(ssmf_cuda_nccl_join), ssmf_nccl_join_fn>::value, "");
