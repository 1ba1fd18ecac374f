/* bodies_scan.h - the selective scan, forward and backward, with the ordered reductions of
 * its per-channel shares. The CPU counterpart: ssm/mixer_scan.c (and ssm/scan_body.h). */
#ifndef SSMF_CUDA_BODIES_SCAN_H
#define SSMF_CUDA_BODIES_SCAN_H

#include "cuda/bodies_common.h"

/* ---- the scan: thread per (flow b, head h, channel p), state column in registers ----
 *
 * S_t = alpha S_{t-1} + beta k_{t-1} v_{t-1}^T + gamma k_t v_t^T; y_t = S_t^T q_t + D v_t.
 * NMAX is a compile-time bound (the kernel instantiates it with the config's N when it is 16,
 * else SSMF_CX_MAX_N) so the column lives in registers; N <= NMAX is the real size.
 * y (B,T,DI) is written for every t (zeros from len on). hist, when not NULL, receives S_t for
 * t < len at hist[(t*N + n) * G + g] with g = (b*H + h)*P + p and G = B*H*P (coalesced). */
#define SSMF_SCAN_FWD_BODY(NMAX)                                                                   \
	{                                                                                          \
		int H = d.H, N = d.N, P = d.P;                                                     \
		size_t g = ((size_t)b * H + h) * P + p;                                            \
		float s[NMAX];                                                                     \
		for (int n = 0; n < NMAX; n++)                                                     \
			s[n] = 0;                                                                  \
		float vprev = 0;                                                                   \
		const float *kprev = 0;                                                            \
		for (int t = 0; t < len; t++) {                                                    \
			size_t bt = (size_t)b * T + t, i = bt * H + h;                             \
			float al = alpha[i], dtv = DT[i], l = lam[i];                              \
			float be = (1.0f - l) * dtv * al, ga = l * dtv;                            \
			float v = proj[bt * d.DP + d.O_X + (size_t)h * P + p];                     \
			const float *kt = k + i * N, *qt = q + i * N;                              \
			float yv = 0;                                                              \
			for (int n = 0; n < NMAX; n++) {                                           \
				if (n < N) {                                                       \
					float ck = kprev ? be * kprev[n] : 0.0f;                   \
					float cg = ga * kt[n];                                     \
					float hv = al * s[n] + ck * vprev + cg * v;                \
					s[n] = hv;                                                 \
					yv += qt[n] * hv;                                          \
					if (hist)                                                  \
						hist[((size_t)t * N + n) * G + g] = hv;            \
				}                                                                  \
			}                                                                          \
			yv += Dskip[h] * v;                                                        \
			y[bt * d.DI + (size_t)h * P + p] = yv;                                     \
			kprev = kt;                                                                \
			vprev = v;                                                                 \
		}                                                                                  \
		for (int t = len; t < T; t++)                                                      \
			y[((size_t)b * T + t) * d.DI + (size_t)h * P + p] = 0;                     \
	}

#define SSMF_SCAN_FWD_ARGS                                                                         \
	int b, int h, int p, struct ssmf_dims d, int T, int len, size_t G, const float *proj,      \
	    const float *k, const float *q, const float *alpha, const float *DT, const float *lam, \
	    const float *Dskip, float *y, float *hist

/* Backward of thread (b,h,p), from the states in hist (a forward recompute). Writes:
 *   dv: d_proj x column of channel p for every t (zeros from len on);
 *   dkp, dqp (B,T,H,N,P): this channel's share of dk, dq, element ((bt*H+h)*N+n)*P+p;
 *   scp (B,T,H,3,P): shares of d alpha (state path), d gamma and d beta;
 *   dDp (B,H,P): share of dD.
 * scan_reduce_body sums the shares over p in order. */
#define SSMF_SCAN_BWD_BODY(NMAX)                                                                   \
	{                                                                                          \
		int H = d.H, N = d.N, P = d.P;                                                     \
		size_t g = ((size_t)b * H + h) * P + p;                                            \
		float ds[NMAX];                                                                    \
		for (int n = 0; n < NMAX; n++)                                                     \
			ds[n] = 0;                                                                 \
		for (int t = len; t < T; t++)                                                      \
			dproj[((size_t)b * T + t) * d.DP + d.O_X + (size_t)h * P + p] = 0;         \
		float carry = 0, dDacc = 0;                                                        \
		for (int t = len - 1; t >= 0; t--) {                                               \
			size_t bt = (size_t)b * T + t, i = bt * H + h;                             \
			float al = alpha[i], dtv = DT[i], l = lam[i];                              \
			float be = (1.0f - l) * dtv * al, ga = l * dtv;                            \
			size_t vo = bt * d.DP + d.O_X + (size_t)h * P + p;                         \
			float v = proj[vo], vprev = t > 0 ? proj[vo - d.DP] : 0.0f;                \
			const float *kt = k + i * N, *qt = q + i * N;                              \
			const float *kprev = t > 0 ? kt - (size_t)H * N : 0;                       \
			float dyv = dy[bt * d.DI + (size_t)h * P + p];                             \
			float dvv = Dskip[h] * dyv + carry;                                        \
			dDacc += dyv * v;                                                          \
			float ra = 0, dga = 0, dbe = 0, cnew = 0;                                  \
			for (int n = 0; n < NMAX; n++) {                                           \
				if (n < N) {                                                       \
					float st = hist[((size_t)t * N + n) * G + g];              \
					size_t o = (i * N + n) * P + p;                            \
					dqp[o] = st * dyv;                                         \
					ds[n] += qt[n] * dyv;                                      \
					float rv = ds[n] * v;                                      \
					dga += kt[n] * rv;                                         \
					dkp[o] = (t == len - 1 ? 0.0f : dkp[o]) + ga * rv;         \
					dvv += ga * kt[n] * ds[n];                                 \
					if (t > 0) {                                               \
						float sp =                                         \
						    hist[((size_t)(t - 1) * N + n) * G + g];       \
						ra += sp * ds[n];                                  \
						float rvp = ds[n] * vprev;                         \
						dbe += kprev[n] * rvp;                             \
						dkp[o - (size_t)H * N * P] = be * rvp;             \
						cnew += be * kprev[n] * ds[n];                     \
					}                                                          \
					ds[n] *= al;                                               \
				}                                                                  \
			}                                                                          \
			dproj[vo] = dvv;                                                           \
			carry = cnew;                                                              \
			float *sc = scp + (i * 3) * P + p;                                         \
			sc[0] = ra;                                                                \
			sc[P] = dga;                                                               \
			sc[2 * (size_t)P] = dbe;                                                   \
		}                                                                                  \
		dDp[g] = dDacc;                                                                    \
	}

#define SSMF_SCAN_BWD_ARGS                                                                         \
	int b, int h, int p, struct ssmf_dims d, int T, int len, size_t G, const float *proj,      \
	    const float *k, const float *q, const float *alpha, const float *DT, const float *lam, \
	    const float *Dskip, const float *dy, const float *hist, float *dproj, float *dkp,      \
	    float *dqp, float *scp, float *dDp

/* Thread per (row bt, head h): sums the channel shares in order; writes d_k, d_q (B,T,H,N),
 * d_alpha, d_dt (scan part), d_lam (B,T,H); zeros for t >= len. */
SSMF_BODY void scan_reduce_body(int bt, int h, struct ssmf_dims d, int valid, const float *dkp,
                                const float *dqp, const float *scp, const float *alpha,
                                const float *DT, const float *lam, float *dk, float *dq,
                                float *dalpha, float *ddt, float *dlam)
{
	int N = d.N, P = d.P;
	size_t i = (size_t)bt * d.H + h;
	if (!valid) {
		for (int n = 0; n < N; n++)
			dk[i * N + n] = dq[i * N + n] = 0;
		dalpha[i] = ddt[i] = dlam[i] = 0;
		return;
	}
	for (int n = 0; n < N; n++) {
		const float *a = dkp + (i * N + n) * P, *c = dqp + (i * N + n) * P;
		float sk = 0, sq = 0;
		for (int p = 0; p < P; p++) {
			sk += a[p];
			sq += c[p];
		}
		dk[i * N + n] = sk;
		dq[i * N + n] = sq;
	}
	const float *sc = scp + i * 3 * P;
	float ra = 0, dga = 0, dbe = 0;
	for (int p = 0; p < P; p++) {
		ra += sc[p];
		dga += sc[P + p];
		dbe += sc[2 * P + p];
	}
	float al = alpha[i], dtv = DT[i], l = lam[i];
	dalpha[i] = ra + dbe * (1.0f - l) * dtv;
	ddt[i] = dbe * (1.0f - l) * al + dga * l;
	dlam[i] = -dbe * dtv * al + dga * dtv;
}

/* Thread per head h: dD[h] += sum over b, p of dDp (B,H,P), in order. */
SSMF_BODY void dskip_reduce_body(int h, struct ssmf_dims d, int B, const float *dDp, float *gD)
{
	float s = 0;
	for (int b = 0; b < B; b++)
		for (int p = 0; p < d.P; p++)
			s += dDp[((size_t)b * d.H + h) * d.P + p];
	gD[h] += s;
}

/* The scan bodies, each at NMAX = SSMF_CX_MAX_N and at 16. Last in the file and left as
 * written: clang-format does not see a macro as a function body and would run these together
 * with what follows. */
/* clang-format off */
SSMF_BODY void scan_fwd_body(SSMF_SCAN_FWD_ARGS) SSMF_SCAN_FWD_BODY(SSMF_CX_MAX_N)
SSMF_BODY void scan_fwd_body16(SSMF_SCAN_FWD_ARGS) SSMF_SCAN_FWD_BODY(16)
SSMF_BODY void scan_bwd_body(SSMF_SCAN_BWD_ARGS) SSMF_SCAN_BWD_BODY(SSMF_CX_MAX_N)
SSMF_BODY void scan_bwd_body16(SSMF_SCAN_BWD_ARGS) SSMF_SCAN_BWD_BODY(16)
/* clang-format on */

#endif
