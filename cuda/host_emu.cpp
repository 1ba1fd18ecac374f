/* host_emu.cpp - the host backend of driver.inc: every kernel grid runs as a loop over its
 * thread indices on the CPU, calling the same bodies (bodies.h) on the same arena layout as
 * the GPU. The grid is walked in a scrambled order, so a body that depended on another thread
 * of the same launch having run first would fail the comparison. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/bodies.h"
#include "cuda/cx.h"

#define CXS          ssmf_cxh
#define CXNAME(x)    ssmf_cxh_##x
#define CX_LAMBDA(...) [=](__VA_ARGS__)

struct cx_backend {
	int unused;
};
struct ssmf_cxh;

template <class F> static void cx_for(struct ssmf_cxh *, int n, F f)
{
	if (n <= 0)
		return;
	/* i -> (i * 7919 + 13) mod n is a permutation when n is not a multiple of 7919 */
	if (n % 7919 == 0) {
		for (int i = n - 1; i >= 0; i--)
			f(i);
		return;
	}
	for (long i = 0; i < n; i++)
		f((int)((i * 7919 + 13) % n));
}

/* C (m,n) = beta C + op(A) op(B), column-major like cuBLAS; beta 0 never reads C. */
static int cx_gemm(struct ssmf_cxh *, int ta, int tb, int m, int n, int k, const float *A,
                   int lda, const float *Bm, int ldb, float beta, float *C, int ldc)
{
	for (int j = 0; j < n; j++)
		for (int i = 0; i < m; i++) {
			float s = 0;
			for (int x = 0; x < k; x++) {
				float a = ta ? A[x + (size_t)i * lda] : A[i + (size_t)x * lda];
				float b = tb ? Bm[j + (size_t)x * ldb] : Bm[x + (size_t)j * ldb];
				s += a * b;
			}
			float *o = C + i + (size_t)j * ldc;
			*o = beta == 0.0f ? s : beta * *o + s;
		}
	return 0;
}

static int cx_copy(struct ssmf_cxh *, void *dst, const void *src, size_t bytes, char *, size_t)
{
	memmove(dst, src, bytes);
	return 0;
}
#define cx_h2d cx_copy
#define cx_d2h cx_copy

static int cx_zero(struct ssmf_cxh *, void *p, size_t bytes, char *, size_t)
{
	memset(p, 0, bytes);
	return 0;
}

static int cx_fill_nan(struct ssmf_cxh *, void *p, size_t bytes, char *, size_t)
{
	memset(p, 0xff, bytes); /* 0xffffffff is a quiet NaN */
	return 0;
}

static int cx_sync(struct ssmf_cxh *, const char *, char *, size_t)
{
	return 0;
}

static int cx_backend_init(struct ssmf_cxh *, char *, size_t)
{
	return 0;
}

static void cx_backend_free(struct ssmf_cxh *)
{
}

static void *cx_host_alloc(size_t bytes)
{
	return malloc(bytes ? bytes : 1);
}

static void cx_host_free(void *p)
{
	free(p);
}

static int cx_arena_alloc(struct ssmf_cxh *c, char *err, size_t errlen);
static void cx_arena_free(struct ssmf_cxh *c);
static int cx_step_graph(struct ssmf_cxh *c, char *err, size_t errlen);

#include "cuda/driver.inc"

static int cx_arena_alloc(struct ssmf_cxh *c, char *err, size_t errlen)
{
	c->arena = (unsigned char *)aligned_alloc(256, cx_align(c->arena_bytes));
	if (!c->arena) {
		snprintf(err, errlen, "out of host memory for the emulated arena (%zu MiB)",
		         c->arena_bytes >> 20);
		return SSMF_CUDA_E_OOM;
	}
	return 0;
}

static void cx_arena_free(struct ssmf_cxh *c)
{
	free(c->arena);
}

static int cx_step_graph(struct ssmf_cxh *c, char *err, size_t errlen)
{
	return cx_step_body(c, err, errlen);
}

extern "C" float *ssmf_cxh_grads(struct ssmf_cxh *c, size_t *n)
{
	*n = c->n_params;
	return c->grads;
}
