/* mixer_prep_body.h - the forward rows of the mixer's prep (mixer_prep.c), as bodies for
 * the SSMF_HOT clones there and for the AVX2 copies of kernels_notrap.c, which vectorise
 * their softplus, exp and sigmoid selects. Step mode (prep_row) and sequence mode
 * (prep_rows) take the same body on every CPU, so they keep giving the same numbers. */
#ifndef SSMF_MIXER_PREP_BODY_H
#define SSMF_MIXER_PREP_BODY_H

#include <math.h>

#include "ssm/internal.h"
#include "ssm/mathfn.h"

static inline __attribute__((always_inline)) void norm_bias_row(ssmf_real *out, ssmf_real *rstd,
                                                                const ssmf_real *x,
                                                                const ssmf_real *w,
                                                                const ssmf_real *bias, int N)
{
	ssmf_real s = R(1) / sqrt(ssmf_sum_squares(x, N) / R(N) + R(SSMF_NORM_EPS));
	*rstd = s;
	for (int n = 0; n < N; n++)
		out[n] = x[n] * s * w[n] + bias[n];
}

static inline __attribute__((always_inline)) void
prep_row_impl(ssmf_real *restrict DT, ssmf_real *restrict A, ssmf_real *restrict alpha,
              ssmf_real *restrict lam, ssmf_real *bn, ssmf_real *cn, ssmf_real *rstd_b,
              ssmf_real *rstd_c, const ssmf_real *restrict proj, ssmf_real gdt,
              const struct ssmf_layer_params *p, const struct ssmf_dims *d, const int H,
              const int N)
{
	/* locals, so the stores below cannot alias the sizes: the loop vectorises */
	const ssmf_real *pdt = proj + d->O_DT, *pa = proj + d->O_A, *plam = proj + d->O_LAM;
	const ssmf_real *dt_bias = p->dt_bias, *a_bias = p->a_bias, *gap_w = p->gap_w;
	for (int h = 0; h < H; h++) {
		ssmf_real dtv = ssmf_softplus(pdt[h] + dt_bias[h]) + ssmf_softplus(gap_w[h]) * gdt;
		ssmf_real spa = ssmf_softplus(pa[h] + a_bias[h]);
		ssmf_real a = spa > R(SSMF_A_MIN) ? -spa : -R(SSMF_A_MIN);
		DT[h] = dtv;
		A[h] = a;
		alpha[h] = ssmf_expf(a * dtv);
		lam[h] = ssmf_sigmoid(plam[h]);
	}
	norm_bias_row(bn, rstd_b, proj + d->O_B, p->bnorm_w, p->bnorm_b, N);
	norm_bias_row(cn, rstd_c, proj + d->O_C, p->cnorm_w, p->cnorm_b, N);
}

/* One packet: also used by step mode, so the numbers are the same. The default shape
 * (8 heads, N = 16) gets a copy with constant trip counts. */
static inline __attribute__((always_inline)) void
prep_row_body(ssmf_real *restrict DT, ssmf_real *restrict A, ssmf_real *restrict alpha,
              ssmf_real *restrict lam, ssmf_real *bn, ssmf_real *cn, ssmf_real *rstd_b,
              ssmf_real *rstd_c, const ssmf_real *restrict proj, ssmf_real gdt,
              const struct ssmf_layer_params *p, const struct ssmf_dims *d)
{
	if (d->H == 8 && d->N == 16)
		prep_row_impl(DT, A, alpha, lam, bn, cn, rstd_b, rstd_c, proj, gdt, p, d, 8, 16);
	else
		prep_row_impl(DT, A, alpha, lam, bn, cn, rstd_b, rstd_c, proj, gdt, p, d, d->H,
		              d->N);
}

/* Rows [r0, r0 + R) of the layer's activations, PREP_CHUNK packets at a time: the per-head
 * terms as one flat (rows x H) array (the layout of DT, A, alpha and lambda), so the exp and
 * log1p chains of many packets overlap instead of one packet's 8 heads waiting on each other;
 * then the B and C norms. Per element the arithmetic is prep_row's (step mode agrees). */
#define PREP_CHUNK 16
static inline __attribute__((always_inline)) void
prep_rows_impl(struct ssmf_layer_acts *la, const ssmf_real *gdt, const struct ssmf_layer_params *p,
               const struct ssmf_dims *d, size_t r0, int R, const int H, const int N)
{
	ssmf_real spg[256], xdt[PREP_CHUNK * 256], xa[PREP_CHUNK * 256], xl[PREP_CHUNK * 256];
	ssmf_real gx[PREP_CHUNK * 256], sx[PREP_CHUNK * 256];
	for (int h = 0; h < H; h++)
		spg[h] = ssmf_softplus(p->gap_w[h]);
	for (int u0 = 0; u0 < R; u0 += PREP_CHUNK) {
		int nr = R - u0 < PREP_CHUNK ? R - u0 : PREP_CHUNK;
		size_t rr = r0 + (size_t)u0;
		for (int u = 0; u < nr; u++) {
			const ssmf_real *proj = la->proj + (rr + u) * d->DP;
			for (int h = 0; h < H; h++) {
				xdt[u * H + h] = proj[d->O_DT + h] + p->dt_bias[h];
				xa[u * H + h] = proj[d->O_A + h] + p->a_bias[h];
				xl[u * H + h] = proj[d->O_LAM + h];
				gx[u * H + h] = gdt[rr + u];
				sx[u * H + h] = spg[h];
			}
		}
		ssmf_real *restrict DT = la->dt + rr * H, *restrict A = la->A + rr * H;
		ssmf_real *restrict alpha = la->alpha + rr * H, *restrict lam = la->lam + rr * H;
		for (int i = 0; i < nr * H; i++) {
			ssmf_real dtv = ssmf_softplus(xdt[i]) + sx[i] * gx[i];
			ssmf_real spa = ssmf_softplus(xa[i]);
			ssmf_real av = spa > R(SSMF_A_MIN) ? -spa : -R(SSMF_A_MIN);
			DT[i] = dtv;
			A[i] = av;
			alpha[i] = ssmf_expf(av * dtv);
			lam[i] = ssmf_sigmoid(xl[i]);
		}
		for (int u = 0; u < nr; u++) {
			size_t r = rr + u;
			const ssmf_real *proj = la->proj + r * d->DP;
			norm_bias_row(la->bn + r * N, la->rstd_b + r, proj + d->O_B, p->bnorm_w,
			              p->bnorm_b, N);
			norm_bias_row(la->cn + r * N, la->rstd_c + r, proj + d->O_C, p->cnorm_w,
			              p->cnorm_b, N);
		}
	}
}

static inline __attribute__((always_inline)) void
prep_rows_body(struct ssmf_layer_acts *la, const ssmf_real *gdt, const struct ssmf_layer_params *p,
               const struct ssmf_dims *d, size_t r0, int R)
{
	if (d->H == 8 && d->N == 16)
		prep_rows_impl(la, gdt, p, d, r0, R, 8, 16);
	else if (d->H <= 256)
		prep_rows_impl(la, gdt, p, d, r0, R, d->H, d->N);
	else
		for (size_t r = r0; r < r0 + (size_t)R; r++)
			prep_row(la->dt + r * d->H, la->A + r * d->H, la->alpha + r * d->H,
			         la->lam + r * d->H, la->bn + r * d->N, la->cn + r * d->N,
			         la->rstd_b + r, la->rstd_c + r, la->proj + r * d->DP, gdt[r], p,
			         d);
}

#endif
