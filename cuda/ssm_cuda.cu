/* ssm_cuda.cu - the CUDA backend of driver.inc: kernels, cuBLAS, one arena, step graph.
 *
 * Every kernel is cx_kernel: one thread per grid index, which the driver's lambda maps to the
 * explicit indices of a body in bodies.h (e.g. thread i -> scan_fwd_body(b, h, p)). Blocks of
 * 128 threads; the index order puts the fastest-varying index (channel p, column c) on
 * consecutive threads so global accesses coalesce. Projections go through cuBLAS (SGEMM, or
 * TF32 tensor cores when opts.tf32). Launches go to one stream; step mode is captured once into
 * a CUDA Graph (copies in, all kernels and GEMMs, copies out) and replayed per call.
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/bodies.h"
#include "cuda/cx.h"

#define CXS            ssmf_cuda
#define CXNAME(x)      ssmf_cuda_##x
#define CX_LAMBDA(...) [=] __device__(__VA_ARGS__)
#define CX_BLOCK       128

struct cx_backend {
	int dev;
	cudaStream_t stream;
	cublasHandle_t blas;
	cublasStatus_t blas_status; /* first cuBLAS failure since the last sync */
	cudaGraph_t graph;
	cudaGraphExec_t graph_exec;
	void *blas_ws;
};
struct ssmf_cuda;

template <class F> __global__ void __launch_bounds__(CX_BLOCK) cx_kernel(int n, F f)
{
	int i = blockIdx.x * CX_BLOCK + threadIdx.x;
	if (i < n)
		f(i);
}

static cudaStream_t cx_stream(struct ssmf_cuda *c);
static cublasHandle_t cx_blas(struct ssmf_cuda *c);
static void cx_blas_fail(struct ssmf_cuda *c, cublasStatus_t s);

template <class F> static void cx_for(struct ssmf_cuda *c, int n, F f)
{
	if (n <= 0)
		return;
	cx_kernel<<<(n + CX_BLOCK - 1) / CX_BLOCK, CX_BLOCK, 0, cx_stream(c)>>>(n, f);
}

static int cx_gemm(struct ssmf_cuda *c, int ta, int tb, int m, int n, int k, const float *A,
                   int lda, const float *Bm, int ldb, float beta, float *C, int ldc)
{
	const float one = 1.0f;
	cublasStatus_t s = cublasSgemm(cx_blas(c), ta ? CUBLAS_OP_T : CUBLAS_OP_N,
	                               tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k, &one, A, lda, Bm,
	                               ldb, &beta, C, ldc);
	if (s != CUBLAS_STATUS_SUCCESS)
		cx_blas_fail(c, s);
	return 0; /* reported by the next cx_sync */
}

static int cx_cuda_err(cudaError_t e, const char *what, char *err, size_t errlen)
{
	if (e == cudaSuccess)
		return 0;
	snprintf(err, errlen, "CUDA %s: %s", what, cudaGetErrorString(e));
	return e == cudaErrorMemoryAllocation ? SSMF_CUDA_E_OOM : SSMF_CUDA_E_FAIL;
}

static int cx_copy(struct ssmf_cuda *c, void *dst, const void *src, size_t bytes, char *err,
                   size_t errlen)
{
	return cx_cuda_err(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, cx_stream(c)),
	                   "copy", err, errlen);
}
#define cx_h2d cx_copy
#define cx_d2h cx_copy

static int cx_zero(struct ssmf_cuda *c, void *p, size_t bytes, char *err, size_t errlen)
{
	return cx_cuda_err(cudaMemsetAsync(p, 0, bytes, cx_stream(c)), "memset", err, errlen);
}

static int cx_fill_nan(struct ssmf_cuda *c, void *p, size_t bytes, char *err, size_t errlen)
{
	return cx_cuda_err(cudaMemsetAsync(p, 0xff, bytes, cx_stream(c)), "memset", err, errlen);
}

static void *cx_host_alloc(size_t bytes)
{
	void *p = NULL;
	if (cudaMallocHost(&p, bytes ? bytes : 1) != cudaSuccess)
		return NULL;
	return p;
}

static void cx_host_free(void *p)
{
	if (p)
		cudaFreeHost(p);
}

static int cx_sync(struct ssmf_cuda *c, const char *what, char *err, size_t errlen);
static int cx_backend_init(struct ssmf_cuda *c, char *err, size_t errlen);
static void cx_backend_free(struct ssmf_cuda *c);
static int cx_arena_alloc(struct ssmf_cuda *c, char *err, size_t errlen);
static void cx_arena_free(struct ssmf_cuda *c);
static int cx_step_graph(struct ssmf_cuda *c, char *err, size_t errlen);

#include "cuda/driver.inc"

static cudaStream_t cx_stream(struct ssmf_cuda *c)
{
	return c->be.stream;
}

static cublasHandle_t cx_blas(struct ssmf_cuda *c)
{
	return c->be.blas;
}

static void cx_blas_fail(struct ssmf_cuda *c, cublasStatus_t s)
{
	if (c->be.blas_status == CUBLAS_STATUS_SUCCESS)
		c->be.blas_status = s;
}

static int cx_sync(struct ssmf_cuda *c, const char *what, char *err, size_t errlen)
{
	cudaError_t e = cudaGetLastError();
	if (e == cudaSuccess)
		e = cudaStreamSynchronize(c->be.stream);
	if (e != cudaSuccess) {
		snprintf(err, errlen, "CUDA error in %s: %s", what, cudaGetErrorString(e));
		return SSMF_CUDA_E_FAIL;
	}
	if (c->be.blas_status != CUBLAS_STATUS_SUCCESS) {
		snprintf(err, errlen, "cuBLAS SGEMM failed in %s: %s", what,
		         cublasGetStatusString(c->be.blas_status));
		c->be.blas_status = CUBLAS_STATUS_SUCCESS;
		return SSMF_CUDA_E_FAIL;
	}
	return 0;
}

extern "C" int ssmf_cuda_available(char *err, size_t errlen)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n < 1) {
		snprintf(err, errlen, "no CUDA device available (%s)",
		         e != cudaSuccess ? cudaGetErrorString(e) : "device count is 0");
		return SSMF_CUDA_E_NODEV;
	}
	return n;
}

extern "C" int ssmf_cuda_device_name(int dev, char *buf, size_t len)
{
	cudaDeviceProp p;
	if (cudaGetDeviceProperties(&p, dev) != cudaSuccess) {
		snprintf(buf, len, "device %d: unavailable", dev);
		return SSMF_CUDA_E_NODEV;
	}
	snprintf(buf, len, "%s, sm_%d%d, %zu MiB, %d SMs", p.name, p.major, p.minor,
	         p.totalGlobalMem >> 20, p.multiProcessorCount);
	return 0;
}

#define BLAS_WS_BYTES ((size_t)32 << 20)

static int cx_backend_init(struct ssmf_cuda *c, char *err, size_t errlen)
{
	char msg[256];
	int n = ssmf_cuda_available(msg, sizeof msg);
	if (n < 0) {
		snprintf(err, errlen, "%s", msg);
		return n;
	}
	if (c->o.device < 0 || c->o.device >= n) {
		snprintf(err, errlen, "CUDA device %d does not exist (%d available)", c->o.device,
		         n);
		return SSMF_CUDA_E_NODEV;
	}
	c->be.dev = c->o.device;
	int rc;
	if ((rc = cx_cuda_err(cudaSetDevice(c->be.dev), "set device", err, errlen)) ||
	    (rc = cx_cuda_err(cudaStreamCreateWithFlags(&c->be.stream, cudaStreamNonBlocking),
	                      "stream", err, errlen)))
		return rc == SSMF_CUDA_E_FAIL ? SSMF_CUDA_E_NODEV : rc;
	cublasStatus_t s = cublasCreate(&c->be.blas);
	if (s != CUBLAS_STATUS_SUCCESS) {
		c->be.blas = NULL;
		snprintf(err, errlen, "cuBLAS initialisation failed: %s", cublasGetStatusString(s));
		return s == CUBLAS_STATUS_ALLOC_FAILED ? SSMF_CUDA_E_OOM : SSMF_CUDA_E_FAIL;
	}
	cublasSetStream(c->be.blas, c->be.stream);
	cublasSetPointerMode(c->be.blas, CUBLAS_POINTER_MODE_HOST);
	cublasSetMathMode(c->be.blas, c->o.tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
	                                        : CUBLAS_PEDANTIC_MATH);
	return 0;
}

static void cx_backend_free(struct ssmf_cuda *c)
{
	if (c->be.graph_exec)
		cudaGraphExecDestroy(c->be.graph_exec);
	if (c->be.graph)
		cudaGraphDestroy(c->be.graph);
	if (c->be.blas)
		cublasDestroy(c->be.blas);
	if (c->be.stream)
		cudaStreamDestroy(c->be.stream);
}

/* The one device allocation: the arena plus cuBLAS's workspace (so that cuBLAS allocates
 * nothing during graph capture). */
static int cx_arena_alloc(struct ssmf_cuda *c, char *err, size_t errlen)
{
	size_t total = cx_align(c->arena_bytes) + BLAS_WS_BYTES;
	void *p = NULL;
	cudaError_t e = cudaMalloc(&p, total);
	if (e != cudaSuccess) {
		size_t fr = 0, tot = 0;
		cudaGetLastError();
		cudaMemGetInfo(&fr, &tot);
		snprintf(err, errlen,
		         "CUDA device out of memory: the arena needs %zu MiB (max_B %d x max_T %d, "
		         "step_n %d, step_flows %d), %zu of %zu MiB free: %s",
		         total >> 20, c->o.max_B, c->o.max_T, c->o.step_n, c->o.step_flows,
		         fr >> 20, tot >> 20, cudaGetErrorString(e));
		return e == cudaErrorMemoryAllocation ? SSMF_CUDA_E_OOM : SSMF_CUDA_E_FAIL;
	}
	c->arena = (unsigned char *)p;
	c->be.blas_ws = c->arena + cx_align(c->arena_bytes);
	cublasSetWorkspace(c->be.blas, c->be.blas_ws, BLAS_WS_BYTES);
	return 0;
}

static void cx_arena_free(struct ssmf_cuda *c)
{
	if (c->arena)
		cudaFree(c->arena);
}

static int cx_step_graph(struct ssmf_cuda *c, char *err, size_t errlen)
{
	int rc;
	if (!c->be.graph_exec) {
		cudaError_t e = cudaStreamBeginCapture(c->be.stream, cudaStreamCaptureModeThreadLocal);
		if ((rc = cx_cuda_err(e, "begin graph capture", err, errlen)))
			return rc;
		rc = cx_step_body(c, err, errlen);
		cudaGraph_t g = NULL;
		e = cudaStreamEndCapture(c->be.stream, &g);
		if (rc) {
			if (g)
				cudaGraphDestroy(g);
			return rc;
		}
		if ((rc = cx_cuda_err(e, "end graph capture", err, errlen)))
			return rc;
		if (c->be.blas_status != CUBLAS_STATUS_SUCCESS) {
			cudaGraphDestroy(g);
			return cx_sync(c, "step graph capture", err, errlen);
		}
		c->be.graph = g;
		if ((rc = cx_cuda_err(cudaGraphInstantiate(&c->be.graph_exec, g, 0),
		                      "instantiate step graph", err, errlen))) {
			c->be.graph_exec = NULL;
			return rc;
		}
	}
	if ((rc = cx_cuda_err(cudaGraphLaunch(c->be.graph_exec, c->be.stream), "step graph",
	                      err, errlen)))
		return rc;
	return cx_sync(c, "step", err, errlen);
}

extern "C" float *ssmf_cuda_grads_on_device(struct ssmf_cuda *c, size_t *n, void **stream,
                                            int *device)
{
	*n = c->n_params;
	*stream = c->be.stream;
	*device = c->be.dev;
	return c->grads;
}
