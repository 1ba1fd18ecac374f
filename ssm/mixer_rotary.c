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

/* Packets per batch of sincos in the flow functions: enough independent vectors to keep
 * the FMA units busy, small enough for the stack. */
#define ROT_CHUNK 8

/* All heads of flow b at once, ROT_CHUNK packets at a time: the H x NA phases (phi's own
 * layout) advance packet by packet, then go through sincos as one flat array, then rotate
 * their pairs of Bn and Cn. The arithmetic is rotary_row's, so step mode agrees. */
static inline __attribute__((always_inline)) void rotary_flow(struct ssmf_layer_acts *la,
                                                              const struct ssmf_dims *d, int b,
                                                              int len, int T, const int H,
                                                              const int N)
{
	int NA = N / 2, HNA = H * NA;
	ssmf_real acc[512], c[ROT_CHUNK * 512], s[ROT_CHUNK * 512];
	for (int p = 0; p < HNA; p++)
		acc[p] = 0;
	for (int t0 = 0; t0 < len; t0 += ROT_CHUNK) {
		int nt = len - t0 < ROT_CHUNK ? len - t0 : ROT_CHUNK;
		size_t b0t = (size_t)b * T + t0;
		ssmf_real *restrict phi0 = la->phi + b0t * HNA;
		for (int u = 0; u < nt; u++) {
			size_t bt = b0t + u;
			const ssmf_real *theta = la->proj + bt * d->DP + d->O_TH,
			                *dt = la->dt + bt * H;
			ssmf_real *restrict phi = phi0 + (size_t)u * HNA;
			for (int h = 0; h < H; h++)
				for (int j = 0; j < NA; j++) {
					ssmf_real ph = acc[h * NA + j] + dt[h] * theta[j];
					acc[h * NA + j] = ph;
					phi[h * NA + j] = ph;
				}
		}
		for (int i = 0; i < nt * HNA; i++)
			ssmf_sincos(phi0[i], &s[i], &c[i]);
		for (int u = 0; u < nt; u++) {
			size_t bt = b0t + u;
			const ssmf_real *restrict bn = la->bn + bt * N, *restrict cn =
			                                                    la->cn + bt * N;
			ssmf_real *restrict k = la->k + bt * H * N, *restrict q =
			                                                la->q + bt * H * N;
			const ssmf_real *cu = c + (size_t)u * HNA, *su = s + (size_t)u * HNA;
			for (int h = 0; h < H; h++)
				for (int j = 0; j < NA; j++) {
					int p = h * NA + j;
					ssmf_real b0 = bn[2 * j], b1 = bn[2 * j + 1];
					ssmf_real c0 = cn[2 * j], c1 = cn[2 * j + 1];
					k[2 * p] = cu[p] * b0 - su[p] * b1;
					k[2 * p + 1] = su[p] * b0 + cu[p] * b1;
					q[2 * p] = cu[p] * c0 - su[p] * c1;
					q[2 * p + 1] = su[p] * c0 + cu[p] * c1;
				}
		}
	}
}

/* Backward of rotary_flow for all heads of flow b, packets in reverse, over the H x NA
 * pairs of a packet at once (phi's own layout; sincos ROT_CHUNK packets at a time): G, the
 * phase gradient accumulated from the end, picks up (dk1 k0 - dk0 k1) + (dq1 q0 - dq0 q1);
 * d bn = R(-phi) dk. */
static inline __attribute__((always_inline)) void
rotary_flow_back(const struct ssmf_flow_grads *g, const struct ssmf_layer_acts *la,
                 const struct ssmf_dims *d, int b, int len, int T, const int H, const int N)
{
	int NA = N / 2, HNA = H * NA;
	ssmf_real G[512], c[ROT_CHUNK * 512], s[ROT_CHUNK * 512];
	for (int p = 0; p < HNA; p++)
		G[p] = 0;
	for (int t1 = len; t1 > 0; t1 -= ROT_CHUNK) {
		int t0 = t1 - ROT_CHUNK > 0 ? t1 - ROT_CHUNK : 0, nt = t1 - t0;
		const ssmf_real *restrict phi0 = la->phi + ((size_t)b * T + t0) * HNA;
		/* the forward left these rows long ago: fetch the next chunk's while this one runs
		 */
		for (int u = 1; u <= ROT_CHUNK && t0 - u >= 0; u++) {
			size_t bt = (size_t)b * T + t0 - u;
			for (size_t o = 0; o < (size_t)HNA; o += 16)
				__builtin_prefetch(la->phi + bt * HNA + o);
			for (size_t o = 0; o < (size_t)H * N; o += 16) {
				__builtin_prefetch(la->k + bt * H * N + o);
				__builtin_prefetch(la->q + bt * H * N + o);
			}
		}
		for (int i = 0; i < nt * HNA; i++)
			ssmf_sincos(phi0[i], &s[i], &c[i]);
		for (int u = nt - 1; u >= 0; u--) {
			size_t bt = (size_t)b * T + t0 + u, t = (size_t)(t0 + u); /* la; g */
			const ssmf_real *restrict k = la->k + bt * H * N, *restrict q =
			                                                      la->q + bt * H * N;
			const ssmf_real *restrict dk = g->d_k + t * H * N;
			const ssmf_real *restrict dq = g->d_q + t * H * N;
			const ssmf_real *dt = la->dt + bt * H;
			const ssmf_real *theta = la->proj + bt * d->DP + d->O_TH;
			ssmf_real *restrict dbn = g->d_bn_h + t * H * N;
			ssmf_real *restrict dcn = g->d_cn_h + t * H * N;
			ssmf_real *restrict dth = g->d_th_h + t * HNA, *ddt = g->d_dt + t * H;
			const ssmf_real *cu = c + (size_t)u * HNA, *su = s + (size_t)u * HNA;
			for (int p = 0; p < HNA; p++) {
				ssmf_real k0 = k[2 * p], k1 = k[2 * p + 1], q0 = q[2 * p],
				          q1 = q[2 * p + 1];
				ssmf_real dk0 = dk[2 * p], dk1 = dk[2 * p + 1];
				ssmf_real dq0 = dq[2 * p], dq1 = dq[2 * p + 1];
				/* d(R v)/dphi = (-(Rv)_1, (Rv)_0) */
				G[p] += -dk0 * k1 + dk1 * k0 - dq0 * q1 + dq1 * q0;
				dbn[2 * p] = cu[p] * dk0 + su[p] * dk1;
				dbn[2 * p + 1] = -su[p] * dk0 + cu[p] * dk1;
				dcn[2 * p] = cu[p] * dq0 + su[p] * dq1;
				dcn[2 * p + 1] = -su[p] * dq0 + cu[p] * dq1;
			}
			for (int h = 0; h < H; h++) {
				ssmf_real acc = 0;
				for (int j = 0; j < NA; j++) {
					dth[h * NA + j] = G[h * NA + j] * dt[h];
					acc += G[h * NA + j] * theta[j];
				}
				ddt[h] += acc;
			}
		}
	}
}

SSMF_HOT
void rotary_backward_flow(const struct ssmf_flow_grads *g, const struct ssmf_layer_acts *la,
                          const struct ssmf_dims *d, int b, int len, int T)
{
	if (d->H == 8 && d->N == 16)
		rotary_flow_back(g, la, d, b, len, T, 8, 16);
	else if (d->H * d->NA <= 512)
		rotary_flow_back(g, la, d, b, len, T, d->H, d->N);
	else
		for (int h = 0; h < d->H; h++)
			rotary_backward_bh(g, la, d, b, h, len, T);
}

/* The default shape (8 heads, N = 16) gets its own copy with constant trip counts. */
SSMF_HOT
void rotary_forward_flow(struct ssmf_layer_acts *la, const struct ssmf_dims *d, int b, int len,
                         int T)
{
	if (d->H == 8 && d->N == 16)
		rotary_flow(la, d, b, len, T, 8, 16);
	else if (d->H * d->NA <= 512)
		rotary_flow(la, d, b, len, T, d->H, d->N);
	else /* beyond the stack tables: head by head */
		for (int h = 0; h < d->H; h++)
			rotary_forward_bh(la, d, b, h, len, T);
}

SSMF_HOT
void rotary_backward_bh(const struct ssmf_flow_grads *g, const struct ssmf_layer_acts *la,
                        const struct ssmf_dims *d, int b, int h, int len, int T)
{
	int H = d->H, N = d->N, NA = d->NA;
	ssmf_real G[128];
	for (int j = 0; j < NA; j++)
		G[j] = 0;
	for (int t = len - 1; t >= 0; t--) {
		size_t bt = (size_t)b * T + t, i = bt * H + h, gi = (size_t)t * H + h; /* la; g */
		const ssmf_real *k = la->k + i * N, *q = la->q + i * N;
		const ssmf_real *dk = g->d_k + gi * N, *dq = g->d_q + gi * N;
		const ssmf_real *ph = la->phi + i * NA;
		const ssmf_real *theta = la->proj + bt * d->DP + d->O_TH;
		ssmf_real *dbn = g->d_bn_h + gi * N, *dcn = g->d_cn_h + gi * N;
		ssmf_real *dth = g->d_th_h + gi * NA;
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
		g->d_dt[gi] += ddt;
	}
}
