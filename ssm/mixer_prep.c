/* mixer_prep.c - per-packet discretisation and B/C normalisation of the mixer.
 *
 * DT    = softplus(dt + dt_bias) + softplus(gap_w) * log1p(gap_us * 1e-3)
 * A     = -max(softplus(a + a_bias), A_MIN)
 * alpha = exp(A DT), lambda = sigmoid(lam)
 * Bn    = rmsnorm(B) * B_norm.weight + B_bias   (likewise Cn)
 *
 * An op: called by sequence.c and step.c, it calls none of model.c, acts.c or params.c.
 */
#include <string.h>

#include "ssm/internal.h"
#include "ssm/mathfn.h"
#include "ssm/mixer_prep_body.h"

/* One packet: also used by step mode, so the numbers are the same. */
SSMF_HOT
void prep_row(ssmf_real *restrict DT, ssmf_real *restrict A, ssmf_real *restrict alpha,
              ssmf_real *restrict lam, ssmf_real *bn, ssmf_real *cn, ssmf_real *rstd_b,
              ssmf_real *rstd_c, const ssmf_real *restrict proj, ssmf_real gdt,
              const struct ssmf_layer_params *p, const struct ssmf_dims *d)
{
#if defined(SSMF_CLONES) && !defined(SSMF_REAL_DOUBLE)
	if (ssmf_cpu_level() == 3) { /* vectorised there only without trapping math */
		prep_row_v3(DT, A, alpha, lam, bn, cn, rstd_b, rstd_c, proj, gdt, p, d);
		return;
	}
#endif
	prep_row_body(DT, A, alpha, lam, bn, cn, rstd_b, rstd_c, proj, gdt, p, d);
}

SSMF_HOT
void prep_rows(struct ssmf_layer_acts *la, const ssmf_real *gdt, const struct ssmf_layer_params *p,
               const struct ssmf_dims *d, size_t r0, int R)
{
#if defined(SSMF_CLONES) && !defined(SSMF_REAL_DOUBLE)
	if (ssmf_cpu_level() == 3) {
		prep_rows_v3(la, gdt, p, d, r0, R);
		return;
	}
#endif
	prep_rows_body(la, gdt, p, d, r0, R);
}

/* d of out = rmsnorm(x) w + bias given dout; dx written, dw/db added. */
static inline __attribute__((always_inline)) void
norm_bias_back(ssmf_real *restrict dx, ssmf_real *restrict dw, ssmf_real *restrict db,
               const ssmf_real *restrict dout, const ssmf_real *restrict x, ssmf_real s,
               const ssmf_real *restrict w, int N)
{
	ssmf_real prod[256];
	for (int n = 0; n < N; n++)
		prod[n] = dout[n] * w[n] * x[n] * s;
	ssmf_real dot = ssmf_sum(prod, N) / R(N);
	for (int n = 0; n < N; n++) {
		ssmf_real xh = x[n] * s;
		dx[n] = s * (dout[n] * w[n] - xh * dot);
		dw[n] += dout[n] * xh;
		db[n] += dout[n];
	}
}

/* One flow's packets; H and N constant in the default shape's copy. */
static inline __attribute__((always_inline)) void
prep_back_flow(struct ssmf_acts *a, const struct ssmf_flow_grads *g,
               const struct ssmf_layer_acts *la, const struct ssmf_layer_params *p,
               const struct ssmf_dims *d, int b, const int H, const int N)
{
	int T = a->T, NA = N / 2;
	size_t np = (size_t)3 * H + 4 * N;
	ssmf_real *part = a->part + (size_t)b * a->part_stride;
	memset(part, 0, np * sizeof(ssmf_real));
	ssmf_real *restrict pdt = part, *restrict pa = part + H, *restrict pg = part + 2 * H;
	ssmf_real *pbw = part + 3 * H, *pbb = pbw + N, *pcw = pbb + N, *pcb = pcw + N;
	/* the per-head terms go through stack tables in blocks of 256 heads (d_state <= 256
	 * bounds N, nothing bounds H); the gap gain's sigmoid is computed once when all fit */
	ssmf_real sgap[256], dbn[256], dcn[256], dx[256], dx1[256], dx2[256], dlam[256];
	for (int h = 0; h < H && H <= 256; h++)
		sgap[h] = ssmf_sigmoid(p->gap_w[h]);
	for (int t = 0; t < a->len[b]; t++) {
		size_t bt = (size_t)b * T + t, i0 = bt * H, g0 = (size_t)t * H; /* la; g */
		const ssmf_real *restrict proj = la->proj + bt * d->DP;
		ssmf_real *restrict dproj = g->d_proj + (size_t)t * d->DP;
		const ssmf_real *restrict ddt = g->d_dt + g0, *restrict dal = g->d_alpha + g0;
		const ssmf_real *restrict dl = g->d_lam + g0, *restrict lam = la->lam + i0;
		const ssmf_real *restrict DT = la->dt + i0, *restrict A = la->A + i0;
		const ssmf_real *restrict al = la->alpha + i0;
		const ssmf_real *restrict pdtc = proj + d->O_DT, *restrict pac = proj + d->O_A;
		ssmf_real gdt = a->gdt[bt];
		for (int h0 = 0; h0 < H; h0 += 256) {
			int hn = H - h0 < 256 ? H - h0 : 256;
			for (int u = 0; u < hn && H > 256; u++)
				sgap[u] = ssmf_sigmoid(p->gap_w[h0 + u]);
			for (int u = 0; u < hn; u++) {
				int h = h0 + u;
				ssmf_real dDT = ddt[h] + dal[h] * al[h] * A[h];
				ssmf_real dA = dal[h] * al[h] * DT[h];
				dx1[u] = dDT * ssmf_sigmoid(pdtc[h] + p->dt_bias[h]);
				pg[h] += dDT * gdt * sgap[u];
				/* A = -max(softplus(x2), A_MIN): the gradient flows where -A >
				 * A_MIN */
				dx2[u] = -A[h] > R(SSMF_A_MIN)
				             ? -dA * ssmf_sigmoid(pac[h] + p->a_bias[h])
				             : 0;
				dlam[u] = dl[h] * lam[h] * (R(1) - lam[h]);
			}
			for (int u = 0; u < hn; u++) {
				int h = h0 + u;
				dproj[d->O_DT + h] = dx1[u];
				pdt[h] += dx1[u];
				dproj[d->O_A + h] = dx2[u];
				pa[h] += dx2[u];
				dproj[d->O_LAM + h] = dlam[u];
			}
		}
		/* B, C and theta are shared by the heads: sum the heads' shares in order */
		const ssmf_real *sb = g->d_bn_h + g0 * N, *sc = g->d_cn_h + g0 * N;
		for (int n = 0; n < N; n++) {
			dbn[n] = sb[n];
			dcn[n] = sc[n];
		}
		for (int h = 1; h < H; h++)
			for (int n = 0; n < N; n++) {
				dbn[n] += sb[h * N + n];
				dcn[n] += sc[h * N + n];
			}
		const ssmf_real *th = g->d_th_h + g0 * NA;
		for (int j = 0; j < NA; j++) {
			ssmf_real s = th[j];
			for (int h = 1; h < H; h++)
				s += th[h * NA + j];
			dproj[d->O_TH + j] = s;
		}
		norm_bias_back(dx, pbw, pbb, dbn, proj + d->O_B, la->rstd_b[bt], p->bnorm_w, N);
		for (int n = 0; n < N; n++)
			dproj[d->O_B + n] = dx[n];
		norm_bias_back(dx, pcw, pcb, dcn, proj + d->O_C, la->rstd_c[bt], p->cnorm_w, N);
		for (int n = 0; n < N; n++)
			dproj[d->O_C + n] = dx[n];
	}
}

SSMF_HOT
void prep_backward_flow(struct ssmf_acts *a, const struct ssmf_flow_grads *g,
                        const struct ssmf_layer_acts *la, const struct ssmf_layer_params *p,
                        const struct ssmf_dims *d, int b)
{
	if (d->H == 8 && d->N == 16)
		prep_back_flow(a, g, la, p, d, b, 8, 16);
	else
		prep_back_flow(a, g, la, p, d, b, d->H, d->N);
}

void prep_backward_reduce(const struct ssmf_acts *a, struct ssmf_layer_params *g,
                          const struct ssmf_dims *d)
{
	int H = d->H, N = d->N;
	for (int b = 0; b < a->B; b++) {
		const ssmf_real *part = a->part + (size_t)b * a->part_stride;
		for (int h = 0; h < H; h++) {
			g->dt_bias[h] += part[h];
			g->a_bias[h] += part[H + h];
			g->gap_w[h] += part[2 * H + h];
		}
		const ssmf_real *q = part + 3 * H;
		for (int n = 0; n < N; n++) {
			g->bnorm_w[n] += q[n];
			g->bnorm_b[n] += q[N + n];
			g->cnorm_w[n] += q[2 * N + n];
			g->cnorm_b[n] += q[3 * N + n];
		}
	}
}
