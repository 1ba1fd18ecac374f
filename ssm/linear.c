/* linear.c - fully connected layers over rows, through one GEMM.
 *
 * C (M,N) = or += A (M,K) . B (K,N), B row-major (or packed in 64-column panels for the
 * forward weights). Each C element is summed over k in order, whatever the blocking, the
 * chunking of K or the thread count, so step mode (one row per flow) and sequence mode give
 * the same numbers. The inner loops run along a row of B (no horizontal reductions).
 */
#include <string.h>

#include "ssm/internal.h"

#define MB 4  /* rows of C per block (generic path) */
#define NB 64 /* columns of C per block */

#if !defined(SSMF_REAL_DOUBLE) && !defined(SSMF_NO_TILE)
/* 4-row register tiles over 64-column panels (gemm_tile_body.h): 4 loads and 4 broadcasts
 * per k on AVX-512 (the fastest shape measured: 75-90 % of the FMA peak with the panels in
 * L1). With set, the accumulators start from the bias (or zero) instead of C, so layer
 * outputs need no memset pass. Each element is c += a*b over k in order, like the generic
 * path. */
#ifdef SSMF_CLONES
#define TILE_FN   gemm_tile_v4
#define TILE_ATTR __attribute__((target("arch=x86-64-v4")))
#define TILE_VW   16
#define TILE_NVG  4
#include "ssm/gemm_tile_body.h"
#define TILE_FN   gemm_tile_v3
#define TILE_ATTR __attribute__((target("arch=x86-64-v3")))
#define TILE_VW   8
#define TILE_NVG  2
#include "ssm/gemm_tile_body.h"
#define TILE_FN gemm_tile_base
#define TILE_ATTR
#define TILE_VW  4
#define TILE_NVG 2
#include "ssm/gemm_tile_body.h"

/* The tile for this CPU, as the SSMF_HOT clones' resolver picks. */
static int gemm_tile4x64(float *C, int ldc, const float *A, size_t as_m, size_t as_k,
                         const float *b, int ldb, int m, int m1, int nn, int K, int set,
                         const float *bias)
{
	int level = ssmf_cpu_level();
	if (level == 4)
		return gemm_tile_v4(C, ldc, A, as_m, as_k, b, ldb, m, m1, nn, K, set, bias);
	if (level == 3)
		return gemm_tile_v3(C, ldc, A, as_m, as_k, b, ldb, m, m1, nn, K, set, bias);
	return gemm_tile_base(C, ldc, A, as_m, as_k, b, ldb, m, m1, nn, K, set, bias);
}
#else
/* one build for the compiler's target: generic 64-byte vectors, which clang and a
 * -march with AVX-512 keep in registers */
#define TILE_FN gemm_tile4x64
#define TILE_ATTR
#define TILE_VW  16
#define TILE_NVG 4
#include "ssm/gemm_tile_body.h"
#endif

/* A partial panel (nn < 64 columns) of unpacked B for the tile, zero-padded. */
#define PAD_K_MAX 128
static void pad_panel(float *bp, const float *Bm, int ldb, int n0, int nn, int K)
{
	for (int k = 0; k < K; k++) {
		memcpy(bp + (size_t)k * NB, Bm + (size_t)k * ldb + n0, (size_t)nn * sizeof(float));
		memset(bp + (size_t)k * NB + nn, 0, (size_t)(NB - nn) * sizeof(float));
	}
}
#endif

/* A element (m,k) is A[m*as_m + k*as_k]. With set, C starts from bias (or zero) rather
 * than being added to. */
SSMF_HOT
static void gemm_panels(ssmf_real *C, int ldc, const ssmf_real *A, size_t as_m, size_t as_k,
                        const ssmf_real *Bm, int ldb, int packed, int m0, int m1, int N, int K,
                        int set, const ssmf_real *bias)
{
	for (int n0 = 0; n0 < N; n0 += NB) {
		int nn = N - n0 < NB ? N - n0 : NB;
		int m = m0;
		/* this panel's columns of B: a (K, NB) block when packed, else strided */
		const ssmf_real *Bp = packed ? Bm + (size_t)(n0 / NB) * K * NB : Bm + n0;
		int ldbp = packed ? NB : ldb;
#if !defined(SSMF_REAL_DOUBLE) && !defined(SSMF_NO_TILE)
		if (nn == NB || packed) {
			m += gemm_tile4x64(C + n0, ldc, A, as_m, as_k, Bp, ldbp, m, m1, nn, K, set,
			                   bias ? bias + n0 : NULL);
		} else if (K <= PAD_K_MAX && m1 - m >= 4) {
			float bp[PAD_K_MAX * NB] __attribute__((aligned(64)));
			pad_panel(bp, Bm, ldb, n0, nn, K);
			m += gemm_tile4x64(C + n0, ldc, A, as_m, as_k, bp, NB, m, m1, nn, K, set,
			                   bias ? bias + n0 : NULL);
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
		if (nn == NB) {
			for (; m + MB <= m1; m += MB) {
				ssmf_real acc[MB][NB];
				for (int i = 0; i < MB; i++)
					memcpy(acc[i], C + (size_t)(m + i) * ldc + n0,
					       sizeof acc[i]);
				const ssmf_real *a0 = A + (size_t)m * as_m;
				for (int k = 0; k < K; k++) {
					const ssmf_real *b = Bp + (size_t)k * ldbp;
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
				const ssmf_real *b = Bp + (size_t)k * ldbp;
				ssmf_real x0 = a0[k * as_k];
				for (int n = 0; n < nn; n++)
					acc[n] += x0 * b[n];
			}
			memcpy(C + (size_t)m * ldc + n0, acc, (size_t)nn * sizeof(ssmf_real));
		}
	}
}

/* Long sums (the weight gradients sum over every row of the batch) go in chunks of KC, so
 * the slice of B a tile streams stays in L1; each element still adds its k in order. */
#define KC 128
static void gemm_block(ssmf_real *C, int ldc, const ssmf_real *A, size_t as_m, size_t as_k,
                       const ssmf_real *Bm, int ldb, int packed, int m0, int m1, int N, int K,
                       int set, const ssmf_real *bias)
{
	if (packed || K <= KC) {
		gemm_panels(C, ldc, A, as_m, as_k, Bm, ldb, packed, m0, m1, N, K, set, bias);
		return;
	}
	for (int k0 = 0; k0 < K; k0 += KC)
		gemm_panels(C, ldc, A + (size_t)k0 * as_k, as_m, as_k, Bm + (size_t)k0 * ldb, ldb,
		            0, m0, m1, N, K - k0 < KC ? K - k0 : KC, set && k0 == 0, bias);
}

static void gemm_run(ssmf_real *C, int ldc, const ssmf_real *A, size_t as_m, size_t as_k,
                     const ssmf_real *Bm, int ldb, int packed, int M, int N, int K, int set,
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
	int ntask = (nblk + per - 1) / per;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
	for (int task = 0; task < ntask; task++) {
		int m0 = task * per * MB;
		int m1 = m0 + per * MB;
		if (m1 > M)
			m1 = M;
		gemm_block(C, ldc, A, as_m, as_k, Bm, ldb, packed, m0, m1, N, K, set, bias);
	}
}

static void gemm_acc(ssmf_real *C, int ldc, const ssmf_real *A, size_t as_m, size_t as_k,
                     const ssmf_real *Bm, int ldb, int M, int N, int K)
{
	gemm_run(C, ldc, A, as_m, as_k, Bm, ldb, 0, M, N, K, 0, NULL);
}

void linear_rows(ssmf_real *out, const ssmf_real *inp, const ssmf_real *wp, const ssmf_real *bias,
                 int R, int I, int O)
{
	gemm_block(out, O, inp, (size_t)I, 1, wp, 0, 1, 0, R, O, I, 1, bias);
}

void linear_forward(ssmf_real *out, const ssmf_real *inp, const ssmf_real *wp,
                    const ssmf_real *bias, int R, int I, int O)
{
	gemm_run(out, O, inp, (size_t)I, 1, wp, 0, 1, R, O, I, 1, bias);
}

void linear_backward_input(ssmf_real *dinp, const ssmf_real *dout, const ssmf_real *w, int R, int I,
                           int O)
{
	gemm_acc(dinp, I, dout, (size_t)O, 1, w, I, R, I, O);
}

void linear_backward_input_rows(ssmf_real *dinp, const ssmf_real *dout, const ssmf_real *w, int R,
                                int I, int O, int set)
{
	gemm_block(dinp, I, dout, (size_t)O, 1, w, I, 0, 0, R, I, O, set, NULL);
}

void linear_backward_weight_rows(ssmf_real *dw, const ssmf_real *dout, const ssmf_real *inp, int R,
                                 int I, int O)
{
	gemm_block(dw, I, dout, 1, (size_t)O, inp, I, 0, 0, O, I, R, 0, NULL);
}

void linear_backward_weight(ssmf_real *dw, ssmf_real *dbias, const ssmf_real *dout,
                            const ssmf_real *inp, int R, int I, int O)
{
	if (I < NB && O % NB == 0 && (size_t)I * O <= 4096) {
		/* few inputs (the embedding's features): rows of I < 64 columns would take the
		 * generic path, so sum dw^T (I,O) = inp^T (I,R) . dout (R,O) on the register tile
		 * instead, then add its transpose */
		ssmf_real t[4096];
		memset(t, 0, (size_t)I * O * sizeof(ssmf_real));
		gemm_acc(t, O, inp, 1, (size_t)I, dout, O, I, O, R);
		for (int o = 0; o < O; o++)
			for (int i = 0; i < I; i++)
				dw[(size_t)o * I + i] += t[(size_t)i * O + o];
	} else { /* dw (O,I) += dout^T (O,R) . inp (R,I) */
		gemm_acc(dw, I, dout, 1, (size_t)O, inp, I, O, I, R);
	}
	if (dbias) {
		for (int r = 0; r < R; r++)
			for (int o = 0; o < O; o++)
				dbias[o] += dout[(size_t)r * O + o];
	}
}

size_t linear_packed_size(int O, int I)
{
	return (size_t)((O + NB - 1) / NB) * NB * (size_t)I;
}

void linear_pack(ssmf_real *wp, const ssmf_real *w, int O, int I)
{
	for (int p = 0; p * NB < O; p++)
		for (int i = 0; i < I; i++)
			for (int c = 0; c < NB; c++) {
				int o = p * NB + c;
				wp[((size_t)p * I + i) * NB + c] = o < O ? w[(size_t)o * I + i] : 0;
			}
}
