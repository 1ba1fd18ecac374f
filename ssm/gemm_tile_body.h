/* gemm_tile_body.h - linear.c's register tile, instantiated once per vector width.
 *
 * The includer defines TILE_FN (the function's name), TILE_ATTR (its target attribute, or
 * nothing), TILE_VW (floats per vector) and TILE_NVG (vectors across one pass). The tile is
 * 4 rows x TILE_VW * TILE_NVG columns; a 64-column panel takes 64 / (TILE_VW * TILE_NVG)
 * passes, so the accumulators fit the registers of the width: 16 AVX-512 vectors (one pass),
 * 8 AVX2 or SSE vectors (4 or 8 passes). A 64-byte generic vector on AVX2 lives in memory,
 * which made the one 4 x 64 shape 28x slower there. Each C element is still initialised
 * (bias, zero or C) and gets c += a*b over k in order, so every width gives the same numbers
 * where FMA contraction is the same.
 *
 * c, b and bias point at the panel's first column; only nn <= 64 columns of C are read and
 * written (b and bias then hold 64, zero-padded). Returns the rows done (whole rows, from m).
 */
#define TILE_CG (TILE_VW * TILE_NVG)

TILE_ATTR
static int TILE_FN(float *C, int ldc, const float *A, size_t as_m, size_t as_k, const float *b,
                   int ldb, int m, int m1, int nn, int K, int set, const float *bias)
{
	typedef float vec __attribute__((vector_size(4 * TILE_VW)));
	typedef float vecu __attribute__((vector_size(4 * TILE_VW), aligned(4), may_alias));
	int done = 0;
	float bz[64] = {0};
	if (set && bias)
		memcpy(bz, bias, (size_t)nn * sizeof(float));
	for (; m + 4 <= m1; m += 4, done += 4) {
		float *c = C + (size_t)m * ldc;
		const float *a = A + (size_t)m * as_m;
		for (int c0 = 0; c0 < nn; c0 += TILE_CG) {
			int w = nn - c0 < TILE_CG ? nn - c0 : TILE_CG;
			vec acc[4][TILE_NVG];
#pragma GCC unroll 4
			for (int i = 0; i < 4; i++) {
				float row[TILE_CG] = {0};
				const float *src = set ? bz + c0 : row;
				if (!set && w == TILE_CG)
					src = c + (size_t)i * ldc + c0;
				else if (!set)
					memcpy(row, c + (size_t)i * ldc + c0,
					       (size_t)w * sizeof(float));
#pragma GCC unroll 4
				for (int j = 0; j < TILE_NVG; j++)
					acc[i][j] = *(const vecu *)(src + TILE_VW * j);
			}
			for (int k = 0; k < K; k++) {
				const float *bk = b + (size_t)k * ldb + c0;
				vec bv[TILE_NVG];
#pragma GCC unroll 4
				for (int j = 0; j < TILE_NVG; j++)
					bv[j] = *(const vecu *)(bk + TILE_VW * j);
				const float *ak = a + (size_t)k * as_k;
#pragma GCC unroll 4
				for (int i = 0; i < 4; i++) {
					float x = ak[(size_t)i * as_m];
#pragma GCC unroll 4
					for (int j = 0; j < TILE_NVG; j++)
						acc[i][j] += x * bv[j];
				}
			}
#pragma GCC unroll 4
			for (int i = 0; i < 4; i++) {
				float row[TILE_CG];
				float *dst = w == TILE_CG ? c + (size_t)i * ldc + c0 : row;
#pragma GCC unroll 4
				for (int j = 0; j < TILE_NVG; j++)
					*(vecu *)(dst + TILE_VW * j) = acc[i][j];
				if (w < TILE_CG)
					memcpy(c + (size_t)i * ldc + c0, row,
					       (size_t)w * sizeof(float));
			}
		}
	}
	/* the last rows (fewer than 4: a short flow, step mode's single rows) on a 1 x 64
	 * tile, the same sums in the same order */
	for (; m < m1; m++, done++) {
		float *c = C + (size_t)m * ldc;
		vec acc[64 / TILE_VW];
		float row[64] = {0};
		if (!set)
			memcpy(row, c, (size_t)nn * sizeof(float));
		for (int j = 0; j < 64 / TILE_VW; j++)
			acc[j] = *(const vecu *)((set ? bz : row) + TILE_VW * j);
		const float *a = A + (size_t)m * as_m;
		for (int k = 0; k < K; k++) {
			const float *bk = b + (size_t)k * ldb;
			float x = a[(size_t)k * as_k];
#pragma GCC unroll 16
			for (int j = 0; j < 64 / TILE_VW; j++)
				acc[j] += x * *(const vecu *)(bk + TILE_VW * j);
		}
		for (int j = 0; j < 64 / TILE_VW; j++)
			*(vecu *)(row + TILE_VW * j) = acc[j];
		memcpy(c, row, (size_t)nn * sizeof(float));
	}
	return done;
}

#undef TILE_CG
#undef TILE_FN
#undef TILE_ATTR
#undef TILE_VW
#undef TILE_NVG
