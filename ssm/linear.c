/* linear.c - fully connected layers over rows, through one accumulate-GEMM.
 *
 * C (M,N) += A (M,K) . B (K,N), B row-major. Each C element is summed over k
 * in order, whatever the blocking or the thread count, so step mode (one row
 * per flow) and sequence mode give the same numbers. The inner loop runs
 * along a row of B (no horizontal reductions), which the compiler vectorises.
 */
#include <string.h>

#include "ssm/internal.h"

#define MB 4  /* rows of C per block (generic path) */
#define NB 32 /* columns of C per block */

#if !defined(SSMF_REAL_DOUBLE) && !defined(SSMF_NO_TILE6)
/* 6 x 32 register tile for float: 12 vector accumulators, 2 loads and 6 broadcasts per k.
 * Each element is still c += a*b over k in order, like the generic path. */
typedef float vf16 __attribute__((vector_size(64)));
typedef float vf16u __attribute__((vector_size(64), aligned(4), may_alias));
#define ld16(p)    (*(const vf16u *)(p))
#define st16(p, v) (*(vf16u *)(p) = (v))

SSMF_HOT
static int gemm_tile6(float *C, int ldc, const float *A, size_t as_m, size_t as_k, const float *Bm,
                      int ldb, int m, int m1, int n0, int K)
{
	int done = 0;
	for (; m + 6 <= m1; m += 6, done += 6) {
		float *c = C + (size_t)m * ldc + n0;
		vf16 c00 = ld16(c), c01 = ld16(c + 16);
		vf16 c10 = ld16(c + ldc), c11 = ld16(c + ldc + 16);
		vf16 c20 = ld16(c + 2 * ldc), c21 = ld16(c + 2 * ldc + 16);
		vf16 c30 = ld16(c + 3 * ldc), c31 = ld16(c + 3 * ldc + 16);
		vf16 c40 = ld16(c + 4 * ldc), c41 = ld16(c + 4 * ldc + 16);
		vf16 c50 = ld16(c + 5 * ldc), c51 = ld16(c + 5 * ldc + 16);
		const float *a = A + (size_t)m * as_m;
		for (int k = 0; k < K; k++) {
			const float *b = Bm + (size_t)k * ldb + n0;
			vf16 b0 = ld16(b), b1 = ld16(b + 16);
			const float *ak = a + (size_t)k * as_k;
			float x0 = ak[0], x1 = ak[as_m], x2 = ak[2 * as_m], x3 = ak[3 * as_m];
			float x4 = ak[4 * as_m], x5 = ak[5 * as_m];
			c00 += x0 * b0;
			c01 += x0 * b1;
			c10 += x1 * b0;
			c11 += x1 * b1;
			c20 += x2 * b0;
			c21 += x2 * b1;
			c30 += x3 * b0;
			c31 += x3 * b1;
			c40 += x4 * b0;
			c41 += x4 * b1;
			c50 += x5 * b0;
			c51 += x5 * b1;
		}
		st16(c, c00), st16(c + 16, c01);
		st16(c + ldc, c10), st16(c + ldc + 16, c11);
		st16(c + 2 * ldc, c20), st16(c + 2 * ldc + 16, c21);
		st16(c + 3 * ldc, c30), st16(c + 3 * ldc + 16, c31);
		st16(c + 4 * ldc, c40), st16(c + 4 * ldc + 16, c41);
		st16(c + 5 * ldc, c50), st16(c + 5 * ldc + 16, c51);
	}
	return done;
}

/* 8 x 32 tile: 16 accumulators, 2 loads and 8 broadcasts per k (AVX-512 has the registers).
 * c, b and bias point at the panel's first column; only nn <= 32 columns of C are read and
 * written (b and bias then hold 32, zero-padded). With set, the accumulators start from the
 * bias (or zero) instead of C, so layer outputs need no memset pass; the sum order is
 * unchanged. */
SSMF_HOT
static int gemm_tile8(float *C, int ldc, const float *A, size_t as_m, size_t as_k, const float *b,
                      int ldb, int m, int m1, int nn, int K, int set, const float *bias)
{
	int done = 0;
	for (; m + 8 <= m1; m += 8, done += 8) {
		float *c = C + (size_t)m * ldc;
		vf16 acc[8][2];
		vf16 z0 = {0}, z1 = {0};
		if (set && bias)
			z0 = ld16(bias), z1 = ld16(bias + 16);
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++) {
			float row[32] = {0};
			if (!set && nn < 32)
				memcpy(row, c + (size_t)i * ldc, (size_t)nn * sizeof(float));
			const float *src = nn < 32 ? row : c + (size_t)i * ldc;
			acc[i][0] = set ? z0 : (vf16)ld16(src);
			acc[i][1] = set ? z1 : (vf16)ld16(src + 16);
		}
		const float *a = A + (size_t)m * as_m;
		for (int k = 0; k < K; k++) {
			const float *bk = b + (size_t)k * ldb;
			vf16 b0 = ld16(bk), b1 = ld16(bk + 16);
			const float *ak = a + (size_t)k * as_k;
#pragma GCC unroll 8
			for (int i = 0; i < 8; i++) {
				float x = ak[(size_t)i * as_m];
				acc[i][0] += x * b0;
				acc[i][1] += x * b1;
			}
		}
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++) {
			if (nn == 32) {
				st16(c + (size_t)i * ldc, acc[i][0]);
				st16(c + (size_t)i * ldc + 16, acc[i][1]);
			} else {
				float row[32];
				st16(row, acc[i][0]);
				st16(row + 16, acc[i][1]);
				memcpy(c + (size_t)i * ldc, row, (size_t)nn * sizeof(float));
			}
		}
	}
	return done;
}

/* A partial panel (nn < 32 columns) for tile8: B's columns and the bias, zero-padded to 32. */
#define PAD_K_MAX 256
static void pad_panel(float *bp, float *biasp, const float *Bm, int ldb, int n0, int nn, int K,
                      const float *bias)
{
	for (int k = 0; k < K; k++) {
		memcpy(bp + (size_t)k * 32, Bm + (size_t)k * ldb + n0, (size_t)nn * sizeof(float));
		memset(bp + (size_t)k * 32 + nn, 0, (size_t)(32 - nn) * sizeof(float));
	}
	memset(biasp, 0, 32 * sizeof(float));
	if (bias)
		memcpy(biasp, bias + n0, (size_t)nn * sizeof(float));
}
#endif

/* A element (m,k) is A[m*as_m + k*as_k]. With set, C starts from bias (or zero) rather
 * than being added to. */
SSMF_HOT
static void gemm_block(ssmf_real *C, int ldc, const ssmf_real *A, size_t as_m, size_t as_k,
                       const ssmf_real *Bm, int ldb, int m0, int m1, int N, int K, int set,
                       const ssmf_real *bias)
{
	for (int n0 = 0; n0 < N; n0 += NB) {
		int nn = N - n0 < NB ? N - n0 : NB;
		int m = m0;
#if !defined(SSMF_REAL_DOUBLE) && !defined(SSMF_NO_TILE6)
		if (nn == NB) {
			m += gemm_tile8(C + n0, ldc, A, as_m, as_k, Bm + n0, ldb, m, m1, NB, K, set,
			                bias ? bias + n0 : NULL);
		} else if (K <= PAD_K_MAX && m1 - m >= 8) {
			float bp[PAD_K_MAX * 32] __attribute__((aligned(64))), biasp[32];
			pad_panel(bp, biasp, Bm, ldb, n0, nn, K, bias);
			m += gemm_tile8(C + n0, ldc, A, as_m, as_k, bp, 32, m, m1, nn, K, set,
			                biasp);
		}
#endif
		if (set) /* the rows left start from bias or zero in C itself */
			for (int r = m; r < m1; r++) {
				ssmf_real *c = C + (size_t)r * ldc + n0;
				if (bias)
					memcpy(c, bias + n0, (size_t)nn * sizeof(ssmf_real));
				else
					memset(c, 0, (size_t)nn * sizeof(ssmf_real));
			}
#if !defined(SSMF_REAL_DOUBLE) && !defined(SSMF_NO_TILE6)
		if (nn == NB)
			m += gemm_tile6(C, ldc, A, as_m, as_k, Bm, ldb, m, m1, n0, K);
#endif
		if (nn == NB) {
			for (; m + MB <= m1; m += MB) {
				ssmf_real acc[MB][NB];
				for (int i = 0; i < MB; i++)
					memcpy(acc[i], C + (size_t)(m + i) * ldc + n0,
					       sizeof acc[i]);
				const ssmf_real *a0 = A + (size_t)m * as_m;
				for (int k = 0; k < K; k++) {
					const ssmf_real *b = Bm + (size_t)k * ldb + n0;
					ssmf_real x0 = a0[k * as_k];
					ssmf_real x1 = a0[as_m + k * as_k];
					ssmf_real x2 = a0[2 * as_m + k * as_k];
					ssmf_real x3 = a0[3 * as_m + k * as_k];
					for (int n = 0; n < NB; n++) {
						acc[0][n] += x0 * b[n];
						acc[1][n] += x1 * b[n];
						acc[2][n] += x2 * b[n];
						acc[3][n] += x3 * b[n];
					}
				}
				for (int i = 0; i < MB; i++)
					memcpy(C + (size_t)(m + i) * ldc + n0, acc[i],
					       sizeof acc[i]);
			}
		}
		for (; m < m1; m++) {
			ssmf_real acc[NB];
			memcpy(acc, C + (size_t)m * ldc + n0, (size_t)nn * sizeof(ssmf_real));
			const ssmf_real *a0 = A + (size_t)m * as_m;
			for (int k = 0; k < K; k++) {
				const ssmf_real *b = Bm + (size_t)k * ldb + n0;
				ssmf_real x0 = a0[k * as_k];
				for (int n = 0; n < nn; n++)
					acc[n] += x0 * b[n];
			}
			memcpy(C + (size_t)m * ldc + n0, acc, (size_t)nn * sizeof(ssmf_real));
		}
	}
}

static void gemm_run(ssmf_real *C, int ldc, const ssmf_real *A, size_t as_m, size_t as_k,
                     const ssmf_real *Bm, int ldb, int M, int N, int K, int set,
                     const ssmf_real *bias)
{
	int nblk = (M + MB - 1) / MB;
	int nt = ssmf_threads();
	if ((long)M * N * K < 32768L)
		nt = 1;
	/* blocks of rows per task: enough tasks to balance, few enough to amortise */
	int per = nblk / (nt * 4);
	if (per < 1)
		per = 1;
	per = (per + 1) & ~1; /* whole 8-row tiles */
	int ntask = (nblk + per - 1) / per;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
	for (int task = 0; task < ntask; task++) {
		int m0 = task * per * MB;
		int m1 = m0 + per * MB;
		if (m1 > M)
			m1 = M;
		gemm_block(C, ldc, A, as_m, as_k, Bm, ldb, m0, m1, N, K, set, bias);
	}
}

static void gemm_acc(ssmf_real *C, int ldc, const ssmf_real *A, size_t as_m, size_t as_k,
                     const ssmf_real *Bm, int ldb, int M, int N, int K)
{
	gemm_run(C, ldc, A, as_m, as_k, Bm, ldb, M, N, K, 0, NULL);
}

void linear_rows(ssmf_real *out, const ssmf_real *inp, const ssmf_real *wt, const ssmf_real *bias,
                 int R, int I, int O)
{
	gemm_block(out, O, inp, (size_t)I, 1, wt, O, 0, R, O, I, 1, bias);
}

void linear_forward(ssmf_real *out, const ssmf_real *inp, const ssmf_real *wt,
                    const ssmf_real *bias, int R, int I, int O)
{
	/* wt is the weight transposed: (I, O) */
	gemm_run(out, O, inp, (size_t)I, 1, wt, O, R, O, I, 1, bias);
}

void linear_backward_input(ssmf_real *dinp, const ssmf_real *dout, const ssmf_real *w, int R, int I,
                           int O)
{
	gemm_acc(dinp, I, dout, (size_t)O, 1, w, I, R, I, O);
}

void linear_backward_weight(ssmf_real *dw, ssmf_real *dbias, const ssmf_real *dout,
                            const ssmf_real *inp, int R, int I, int O)
{
	/* dw (O,I) += dout^T (O,R) . inp (R,I) */
	gemm_acc(dw, I, dout, 1, (size_t)O, inp, I, O, I, R);
	if (dbias) {
		for (int r = 0; r < R; r++)
			for (int o = 0; o < O; o++)
				dbias[o] += dout[(size_t)r * O + o];
	}
}

void linear_transpose(ssmf_real *wt, const ssmf_real *w, int O, int I)
{
	for (int o = 0; o < O; o++)
		for (int i = 0; i < I; i++)
			wt[(size_t)i * O + o] = w[(size_t)o * I + i];
}
