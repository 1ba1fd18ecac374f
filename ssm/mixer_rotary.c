/* mixer_rotary.c - data-dependent rotary phase on B and C (the complex state).
 *
 * Pairs (2j, 2j+1) of state dimensions rotate by phi[t,h,j] = sum_{s<=t} DT[s,h] theta[s,j]:
 * k = R(phi) Bn, q = R(phi) Cn. theta comes from in_proj and is shared by the heads; the
 * phase is per head because DT is.
 */
#include "ssm/internal.h"

/* One packet for one head: phi (NA) advances in place; k, q (N) written. Shared with step. */
void rotary_row(ssmf_real *phi, ssmf_real *k, ssmf_real *q, const ssmf_real *bn,
                const ssmf_real *cn, const ssmf_real *theta, ssmf_real dtv, int NA)
{
	for (int j = 0; j < NA; j++) {
		ssmf_real ph = phi[j] + dtv * theta[j];
		phi[j] = ph;
		ssmf_real c = cos(ph), s = sin(ph);
		k[2 * j] = c * bn[2 * j] - s * bn[2 * j + 1];
		k[2 * j + 1] = s * bn[2 * j] + c * bn[2 * j + 1];
		q[2 * j] = c * cn[2 * j] - s * cn[2 * j + 1];
		q[2 * j + 1] = s * cn[2 * j] + c * cn[2 * j + 1];
	}
}

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
			ssmf_real c = cos(ph[j]), s = sin(ph[j]);
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
