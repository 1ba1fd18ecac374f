/* rmsnorm.c - RMSNorm with a learned scale, over rows. */
#include <string.h>

#include "ssm/internal.h"

SSMF_HOT
void rmsnorm_rows(ssmf_real *restrict out, ssmf_real *restrict rstd, const ssmf_real *restrict x,
                  const ssmf_real *restrict w, int R, int C)
{
	for (int r = 0; r < R; r++) {
		const ssmf_real *xr = x + (size_t)r * C;
		ssmf_real *o = out + (size_t)r * C;
		ssmf_real s = R(1) / sqrt(ssmf_sum_squares(xr, C) / R(C) + R(SSMF_NORM_EPS));
		rstd[r] = s;
		for (int c = 0; c < C; c++)
			o[c] = xr[c] * s * w[c];
	}
}

void rmsnorm_forward(ssmf_real *out, ssmf_real *rstd, const ssmf_real *x, const ssmf_real *w, int R,
                     int C)
{
#pragma omp parallel for schedule(static) num_threads(ssmf_threads()) if (R > 64)
	for (int r = 0; r < R; r++)
		rmsnorm_rows(out + (size_t)r * C, rstd + r, x + (size_t)r * C, w, 1, C);
}

/* dx (R,C) += for these rows; pw (C) is written: these rows' share of d w */
SSMF_HOT
void rmsnorm_backward_rows(ssmf_real *restrict dx, ssmf_real *restrict pw,
                           const ssmf_real *restrict dout, const ssmf_real *restrict x,
                           const ssmf_real *restrict rstd, const ssmf_real *restrict w, int R,
                           int C)
{
	memset(pw, 0, (size_t)C * sizeof(ssmf_real));
	for (int r = 0; r < R; r++) {
		const ssmf_real *xr = x + (size_t)r * C;
		const ssmf_real *dr = dout + (size_t)r * C;
		ssmf_real *dxr = dx + (size_t)r * C;
		ssmf_real s = rstd[r];
		/* xhat = x s; dxhat = dout w; dx = s (dxhat - xhat mean(dxhat xhat)) */
		ssmf_real prod[1024];
		ssmf_real dot = 0;
		if (C <= 1024) {
			for (int c = 0; c < C; c++)
				prod[c] = dr[c] * w[c] * xr[c] * s;
			dot = ssmf_sum(prod, C);
		} else {
			for (int c = 0; c < C; c++)
				dot += dr[c] * w[c] * xr[c] * s;
		}
		dot /= R(C);
		for (int c = 0; c < C; c++) {
			ssmf_real xh = xr[c] * s;
			dxr[c] += s * (dr[c] * w[c] - xh * dot);
			pw[c] += dr[c] * xh;
		}
	}
}

void rmsnorm_backward(ssmf_real *dx, ssmf_real *dw, ssmf_real *part, const ssmf_real *dout,
                      const ssmf_real *x, const ssmf_real *rstd, const ssmf_real *w, int R, int C,
                      int G)
{
	int per = R / G;
#pragma omp parallel for schedule(static) num_threads(ssmf_threads())
	for (int g = 0; g < G; g++)
		rmsnorm_backward_rows(dx + (size_t)g * per * C, part + (size_t)g * C,
		                      dout + (size_t)g * per * C, x + (size_t)g * per * C,
		                      rstd + (size_t)g * per, w, per, C);
	for (int g = 0; g < G; g++)
		for (int c = 0; c < C; c++)
			dw[c] += part[(size_t)g * C + c];
}
