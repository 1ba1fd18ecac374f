/* mixer_rotary.c - data-dependent rotary phase on B and C (the complex state).
 *
 * Pairs (2j, 2j+1) of state dimensions rotate by phi[t,h,j] = sum_{s<=t} DT[s,h] theta[s,j]:
 * k = R(phi) Bn, q = R(phi) Cn. theta comes from in_proj and is shared by the heads; the
 * phase is per head because DT is.
 */
#include "ssm/internal.h"
#include "ssm/mathfn.h"

/* One packet for one head: phi (NA) advances in place; k, q (N) written. Shared with step. */
SSMF_HOT
void rotary_row(ssmf_real *phi, ssmf_real *k, ssmf_real *q, const ssmf_real *bn,
                const ssmf_real *cn, const ssmf_real *theta, ssmf_real dtv, int NA)
{
	ssmf_real c[128], s[128];      /* NA <= 128 (d_state <= 256) */
	for (int j = 0; j < NA; j++) { /* two loops: this one vectorises */
		ssmf_real ph = phi[j] + dtv * theta[j];
		phi[j] = ph;
		ssmf_sincos(ph, &s[j], &c[j]);
	}
	for (int j = 0; j < NA; j++) {
		ssmf_real b0 = bn[2 * j], b1 = bn[2 * j + 1], c0 = cn[2 * j], c1 = cn[2 * j + 1];
		k[2 * j] = c[j] * b0 - s[j] * b1;
		k[2 * j + 1] = s[j] * b0 + c[j] * b1;
		q[2 * j] = c[j] * c0 - s[j] * c1;
		q[2 * j + 1] = s[j] * c0 + c[j] * c1;
	}
}

SSMF_HOT
void rotary_forward_bh(struct ssmf_layer_acts *la, const struct ssmf_dims *d, int b, int h, int len,
                       int T)
{
	int H = d->H, N = d->N, NA = d->NA;
	ssmf_real phi[128];
	for (int j = 0; j < NA; j++)
		phi[j] = 0;
	for (int t = 0; t < len; t++) {
		size_t bt = (size_t)b * T + t, i = bt * H + h;
		rotary_row(phi, la->k + i * N, la->q + i * N, la->bn + bt * N, la->cn + bt * N,
		           la->proj + bt * d->DP + d->O_TH, la->dt[i], NA);
		for (int j = 0; j < NA; j++)
			la->phi[i * NA + j] = phi[j];
	}
}

/* All heads of flow b at once, in full vectors: each pair's phase is kept twice (once per
 * element, the same arithmetic as rotary_row), so sincos and the rotation run over the
 * H x N table of a packet. k = cos * v + sign * sin * swap(v), sign = (-, +) per pair. */
static inline __attribute__((always_inline)) void rotary_flow(struct ssmf_layer_acts *la,
                                                              const struct ssmf_dims *d, int b,
                                                              int len, int T, const int H,
                                                              const int N)
{
	int NA = N / 2, HN = H * N;
	ssmf_real acc[1024], c[1024], s[1024], thx[256], bsw[256], csw[256], sg[256];
	for (int i = 0; i < HN; i++)
		acc[i] = 0;
	for (int n = 0; n < N; n++)
		sg[n] = n & 1 ? R(1) : R(-1);
	for (int t = 0; t < len; t++) {
		size_t bt = (size_t)b * T + t;
		const ssmf_real *theta = la->proj + bt * d->DP + d->O_TH, *dt = la->dt + bt * H;
		const ssmf_real *bn = la->bn + bt * N, *cn = la->cn + bt * N;
		ssmf_real *k = la->k + bt * HN, *q = la->q + bt * HN, *phi = la->phi + bt * H * NA;
		for (int n = 0; n < N; n++) {
			thx[n] = theta[n >> 1];
			bsw[n] = bn[n ^ 1];
			csw[n] = cn[n ^ 1];
		}
		for (int h = 0; h < H; h++) {
			ssmf_real dv = dt[h], *ah = acc + h * N;
			for (int n = 0; n < N; n++)
				ah[n] = ah[n] + dv * thx[n];
		}
		for (int i = 0; i < HN; i++)
			ssmf_sincos(acc[i], &s[i], &c[i]);
		for (int h = 0; h < H; h++)
			for (int j = 0; j < NA; j++)
				phi[h * NA + j] = acc[h * N + 2 * j];
		for (int h = 0; h < H; h++) {
			const ssmf_real *ch = c + h * N, *sh = s + h * N;
			ssmf_real *kh = k + h * N, *qh = q + h * N;
			for (int n = 0; n < N; n++) {
				ssmf_real sn = sg[n] * sh[n];
				kh[n] = ch[n] * bn[n] + sn * bsw[n];
				qh[n] = ch[n] * cn[n] + sn * csw[n];
			}
		}
	}
}

/* The default shape (8 heads, N = 16) gets its own copy with constant trip counts. */
SSMF_HOT
void rotary_forward_flow(struct ssmf_layer_acts *la, const struct ssmf_dims *d, int b, int len,
                         int T)
{
	if (d->H == 8 && d->N == 16)
		rotary_flow(la, d, b, len, T, 8, 16);
	else if (d->H * d->N <= 1024)
		rotary_flow(la, d, b, len, T, d->H, d->N);
	else /* beyond the stack tables: head by head */
		for (int h = 0; h < d->H; h++)
			rotary_forward_bh(la, d, b, h, len, T);
}

SSMF_HOT
void rotary_backward_bh(struct ssmf_acts *a, const struct ssmf_layer_acts *la,
                        const struct ssmf_dims *d, int b, int h, int len, int T)
{
	int H = d->H, N = d->N, NA = d->NA;
	ssmf_real G[128];
	for (int j = 0; j < NA; j++)
		G[j] = 0;
	for (int t = len - 1; t >= 0; t--) {
		size_t bt = (size_t)b * T + t, i = bt * H + h;
		const ssmf_real *k = la->k + i * N, *q = la->q + i * N;
		const ssmf_real *dk = a->d_k + i * N, *dq = a->d_q + i * N;
		const ssmf_real *ph = la->phi + i * NA;
		const ssmf_real *theta = la->proj + bt * d->DP + d->O_TH;
		ssmf_real *dbn = a->d_bn_h + i * N, *dcn = a->d_cn_h + i * N;
		ssmf_real *dth = a->d_th_h + i * NA;
		ssmf_real ddt = 0;
		for (int j = 0; j < NA; j++) {
			ssmf_real c, s;
			ssmf_sincos(ph[j], &s, &c);
			ssmf_real dk0 = dk[2 * j], dk1 = dk[2 * j + 1];
			ssmf_real dq0 = dq[2 * j], dq1 = dq[2 * j + 1];
			/* d(R v)/dphi = (-(Rv)_1, (Rv)_0) */
			G[j] += -dk0 * k[2 * j + 1] + dk1 * k[2 * j] - dq0 * q[2 * j + 1] +
			        dq1 * q[2 * j];
			dbn[2 * j] = c * dk0 + s * dk1;
			dbn[2 * j + 1] = -s * dk0 + c * dk1;
			dcn[2 * j] = c * dq0 + s * dq1;
			dcn[2 * j + 1] = -s * dq0 + c * dq1;
			dth[j] = G[j] * la->dt[i];
			ddt += G[j] * theta[j];
		}
		a->d_dt[i] += ddt;
	}
}
