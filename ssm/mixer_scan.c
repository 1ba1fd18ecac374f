/* mixer_scan.c - the recurrence over a flow, forward and backward, per (flow, head). */
#include <string.h>

#include "ssm/internal.h"
#include "ssm/scan_body.h"

static const ssmf_real g_zero[1024];

#if !defined(SSMF_REAL_DOUBLE)
/* N = P = 16 (the default): the state stays in registers for the whole flow. */
SSMF_HOT
static void scan_forward_16(ssmf_real *y, ssmf_real *hist, const struct ssmf_layer_acts *la,
                            ssmf_real Dh, const struct ssmf_dims *d, int b, int h, int len, int T)
{
	/* everything in locals: the may_alias vector stores would otherwise make the compiler
	 * reload every pointer of la and d at each step */
	size_t H = (size_t)d->H, DP = (size_t)d->DP, DI = (size_t)d->DI, r0 = (size_t)b * T;
	const float *alpha = la->alpha + r0 * H + h, *dt = la->dt + r0 * H + h;
	const float *lam = la->lam + r0 * H + h;
	const float *kp = la->k + (r0 * H + h) * 16, *qp = la->q + (r0 * H + h) * 16;
	const float *vp = la->proj + r0 * DP + d->O_X + (size_t)h * 16;
	float *yp = y + r0 * DI + (size_t)h * 16;
	ssmf_v16 S[16], vprev = {0};
	for (int n = 0; n < 16; n++)
		S[n] = vprev;
	const float *kprev = g_zero;
	for (int t = 0; t < len; t++) {
		/* the rows a few packets ahead: strides of 0.5-1.3 kB defeat the prefetchers */
		__builtin_prefetch(kp + (t + 4) * H * 16);
		__builtin_prefetch(qp + (t + 4) * H * 16);
		__builtin_prefetch(vp + (t + 4) * DP);
		float al = alpha[t * H], dtv = dt[t * H], l = lam[t * H];
		const float *k = kp + t * H * 16;
		ssmf_v16 v = SSMF_LD16(vp + t * DP), yv;
		ssmf_scan_step16(S, &yv, kprev, &vprev, k, &v, qp + t * H * 16, al,
		                 (1.0f - l) * dtv * al, l * dtv, Dh);
		SSMF_ST16(yp + t * DI, yv);
		if (hist)
			for (int n = 0; n < 16; n++)
				SSMF_ST16(hist + ((size_t)t * 16 + n) * 16, S[n]);
		kprev = k;
		vprev = v;
	}
	for (int t = len; t < T; t++)
		memset(yp + t * DI, 0, 16 * sizeof(float));
}

#ifdef SSMF_CLONES
/* The same recurrence for AVX2, 8 channels at a time: 16 rows of 16 channels are 32 AVX2
 * registers (twice what there are), and a 64-byte vector lives in memory there. Each
 * channel's arithmetic is scan_body.h's, operation for operation, so the numbers are the
 * same. */
typedef float ssmf_v8 __attribute__((vector_size(32)));
typedef float ssmf_v8u __attribute__((vector_size(32), aligned(4), may_alias));

__attribute__((target("arch=x86-64-v3"))) static void
scan_forward_16_avx2(ssmf_real *y, ssmf_real *hist, const struct ssmf_layer_acts *la, ssmf_real Dh,
                     const struct ssmf_dims *d, int b, int h, int len, int T)
{
	size_t H = (size_t)d->H, DP = (size_t)d->DP, DI = (size_t)d->DI, r0 = (size_t)b * T;
	const float *alpha = la->alpha + r0 * H + h, *dt = la->dt + r0 * H + h;
	const float *lam = la->lam + r0 * H + h;
	const float *kp = la->k + (r0 * H + h) * 16, *qp = la->q + (r0 * H + h) * 16;
	const float *vp = la->proj + r0 * DP + d->O_X + (size_t)h * 16;
	float *yp = y + r0 * DI + (size_t)h * 16;
	for (int c0 = 0; c0 < 16; c0 += 8) {
		ssmf_v8 S[16], vprev = {0};
		for (int n = 0; n < 16; n++)
			S[n] = vprev;
		const float *kprev = g_zero;
		for (int t = 0; t < len; t++) {
			__builtin_prefetch(kp + (t + 4) * H * 16);
			__builtin_prefetch(qp + (t + 4) * H * 16);
			__builtin_prefetch(vp + (t + 4) * DP);
			float al = alpha[t * H], dtv = dt[t * H], l = lam[t * H];
			float beta = (1.0f - l) * dtv * al, gamma = l * dtv;
			const float *k = kp + t * H * 16, *q = qp + t * H * 16;
			ssmf_v8 v = *(const ssmf_v8u *)(vp + t * DP + c0);
			ssmf_v8 bv = beta * vprev, gv = gamma * v, yv[4] = {{0}, {0}, {0}, {0}};
#pragma GCC unroll 16
			for (int n = 0; n < 16; n++) {
				S[n] = al * S[n] + (kprev[n] * bv + k[n] * gv);
				yv[n & 3] += q[n] * S[n];
			}
			*(ssmf_v8u *)(yp + t * DI + c0) =
			    ((yv[0] + yv[1]) + (yv[2] + yv[3])) + Dh * v;
			if (hist)
				for (int n = 0; n < 16; n++)
					*(ssmf_v8u *)(hist + ((size_t)t * 16 + n) * 16 + c0) = S[n];
			kprev = k;
			vprev = v;
		}
	}
	for (int t = len; t < T; t++)
		memset(yp + t * DI, 0, 16 * sizeof(float));
}
#endif
#endif

SSMF_HOT
void scan_forward_bhp(ssmf_real *y, ssmf_real *S, ssmf_real *hist, const struct ssmf_layer_acts *la,
                      const ssmf_real *Dskip, const struct ssmf_dims *d, int b, int h, int p0,
                      int p1, int len, int T)
{
	int H = d->H, N = d->N, P = d->P, np = p1 - p0;
#if !defined(SSMF_REAL_DOUBLE)
	if (y && N == 16 && P == 16 && p0 == 0 && p1 == 16) {
#ifdef SSMF_CLONES
		if (ssmf_cpu_level() == 3) {
			scan_forward_16_avx2(y, hist, la, Dskip[h], d, b, h, len, T);
			return;
		}
#endif
		scan_forward_16(y, hist, la, Dskip[h], d, b, h, len, T);
		return;
	}
#endif
	for (int n = 0; n < N; n++)
		memset(S + (size_t)n * P + p0, 0, (size_t)np * sizeof(ssmf_real));
	const ssmf_real *kprev = g_zero, *vprev = g_zero;
	ssmf_real yrow[1024]; /* y == NULL (the states alone): y goes here; headdim <= 1024 */
	for (int t = 0; t < len; t++) {
		size_t bt = (size_t)b * T + t, i = bt * H + h;
		ssmf_real al = la->alpha[i], dtv = la->dt[i], l = la->lam[i];
		const ssmf_real *k = la->k + i * N;
		const ssmf_real *v = la->proj + bt * d->DP + d->O_X + (size_t)h * P + p0;
		ssmf_real *yt = y ? y + bt * d->DI + (size_t)h * P + p0 : yrow;
		ssmf_scan_step(S + p0, P, yt, kprev, vprev, k, v, la->q + i * N, al,
		               (R(1) - l) * dtv * al, l * dtv, Dskip[h], N, np);
		if (hist)
			for (int n = 0; n < N; n++)
				memcpy(hist + ((size_t)t * N + n) * P + p0, S + (size_t)n * P + p0,
				       (size_t)np * sizeof(ssmf_real));
		kprev = k;
		vprev = v;
	}
	for (int t = len; t < T && y; t++)
		memset(y + ((size_t)b * T + t) * d->DI + (size_t)h * P + p0, 0,
		       (size_t)np * sizeof(ssmf_real));
}

SSMF_HOT
void scan_backward_bhp(const struct ssmf_flow_grads *g, const struct ssmf_layer_acts *la,
                       const ssmf_real *hist, const ssmf_real *Dskip, ssmf_real *dD,
                       const struct ssmf_dims *d, int b, int h, int p0, int p1, int len, int T)
{
	int H = d->H, N = d->N, P = d->P, np = p1 - p0;
	ssmf_real dS[256 * 64];
	ssmf_real *dSp = dS; /* (N, np) */
	if ((size_t)N * np > sizeof dS / sizeof dS[0])
		return; /* config validation keeps N * P within this bound */
	memset(dSp, 0, (size_t)N * np * sizeof(ssmf_real));
	ssmf_real dDacc = 0;
	for (int t = len - 1; t >= 0; t--) {
		size_t bt = (size_t)b * T + t, i = bt * H + h, gi = (size_t)t * H + h; /* la; g */
		ssmf_real al = la->alpha[i], dtv = la->dt[i], l = la->lam[i];
		ssmf_real be = (R(1) - l) * dtv * al, ga = l * dtv;
		const ssmf_real *k = la->k + i * N, *q = la->q + i * N;
		const ssmf_real *v = la->proj + bt * d->DP + d->O_X + (size_t)h * P + p0;
		ssmf_real *dv = g->d_proj + (size_t)t * d->DP + d->O_X + (size_t)h * P + p0;
		const ssmf_real *kprev = g_zero, *vprev = g_zero;
		ssmf_real *dkprev = NULL, *dvprev = NULL;
		if (t > 0) {
			kprev = k - (size_t)H * N;
			vprev = v - d->DP;
			dkprev = g->d_k + (gi - H) * N;
			dvprev = dv - d->DP;
		}
		const ssmf_real *dy = g->d_y + (size_t)t * d->DI + (size_t)h * P + p0;
		const ssmf_real *St = hist + (size_t)t * N * P + p0;
		const ssmf_real *Sp = t > 0 ? hist + (size_t)(t - 1) * N * P + p0 : NULL;
		ssmf_real *dk = g->d_k + gi * N, *dq = g->d_q + gi * N;
		for (int p = 0; p < np; p++) {
			dv[p] += Dskip[h] * dy[p];
			dDacc += dy[p] * v[p];
		}
		ssmf_real dal = 0, dbe = 0, dga = 0;
		for (int n = 0; n < N; n++) {
			const ssmf_real *st = St + (size_t)n * P;
			ssmf_real *ds = dSp + (size_t)n * np;
			ssmf_real qn = q[n], dqn = 0;
			for (int p = 0; p < np; p++) {
				dqn += st[p] * dy[p];
				ds[p] += qn * dy[p];
			}
			dq[n] += dqn;
			ssmf_real rv = 0, rvp = 0, ra = 0;
			for (int p = 0; p < np; p++) {
				rv += ds[p] * v[p];
				rvp += ds[p] * vprev[p];
			}
			if (Sp) {
				const ssmf_real *sp = Sp + (size_t)n * P;
				for (int p = 0; p < np; p++)
					ra += sp[p] * ds[p];
			}
			dal += ra;
			dga += k[n] * rv;
			dbe += kprev[n] * rvp;
			dk[n] += ga * rv;
			ssmf_real gk = ga * k[n];
			for (int p = 0; p < np; p++)
				dv[p] += gk * ds[p];
			if (dkprev) {
				dkprev[n] += be * rvp;
				ssmf_real bk = be * kprev[n];
				for (int p = 0; p < np; p++)
					dvprev[p] += bk * ds[p];
			}
			for (int p = 0; p < np; p++)
				ds[p] *= al;
		}
		g->d_alpha[gi] += dal + dbe * (R(1) - l) * dtv;
		g->d_dt[gi] += dbe * (R(1) - l) * al + dga * l;
		g->d_lam[gi] += -dbe * dtv * al + dga * dtv;
	}
	*dD += dDacc;
}

#if !defined(SSMF_REAL_DOUBLE)
/* Sum of the 16 lanes, pairwise (4 shuffles and 4 adds instead of 15 lane extracts). */
static inline float ssmf_hsum16(const ssmf_v16 *x)
{
#if defined(__clang__)
#define SSMF_SHUF16(v, ...) __builtin_shufflevector(v, v, __VA_ARGS__)
#else
	typedef int ssmf_i16 __attribute__((vector_size(64)));
#define SSMF_SHUF16(v, ...) __builtin_shuffle(v, (ssmf_i16){__VA_ARGS__})
#endif
	ssmf_v16 v = *x;
	v += SSMF_SHUF16(v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
	v += SSMF_SHUF16(v, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
	v += SSMF_SHUF16(v, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
	v += SSMF_SHUF16(v, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
#undef SSMF_SHUF16
	return v[0];
}

/* What one backward step of the 16 x 16 scan reads and writes (flow b, head h). */
struct scan_back_ctx {
	const float *alpha, *dt, *lam, *kp, *qp, *vp;
	float *dvp, *dkp, *dqp;
	const float *dyp;
	float *d_alpha, *d_dt, *d_lam, *dsn;
	const float *hist;
	size_t H, DP, DI;
	float Dh;
	int len;
};

/* Packet t of the backward; first (t = 0, a constant where inlined) drops the k_{t-1} v_{t-1}
 * and S_{t-1} terms, so the loop for t > 0 has no branches. */
static inline __attribute__((always_inline)) void scan_back_step16(const struct scan_back_ctx *c,
                                                                   ssmf_v16 *restrict dS,
                                                                   ssmf_v16 *dDacc, int t,
                                                                   const int first)
{
	const ssmf_v16 zero = {0};
	size_t H = c->H, DP = c->DP, DI = c->DI;
	if (t >= 4) { /* packets ahead (behind, here): see scan_forward_16 */
		__builtin_prefetch(c->qp + (t - 4) * H * 16);
		__builtin_prefetch(c->dyp + (t - 4) * DI);
		__builtin_prefetch(c->dvp + (t - 4) * DP, 1);
		__builtin_prefetch(c->dkp + (t - 4) * H * 16, 1);
		__builtin_prefetch(c->dqp + (t - 4) * H * 16, 1);
	}
	float al = c->alpha[t * H], dtv = c->dt[t * H], l = c->lam[t * H];
	float be = (1.0f - l) * dtv * al, ga = l * dtv;
	const float *kt = c->kp + t * H * 16, *v = c->vp + t * DP, *dy = c->dyp + t * DI;
	const float *kprev = first ? g_zero : kt - H * 16, *vprev = first ? g_zero : v - DP;
	ssmf_v16 q = SSMF_LD16(c->qp + t * H * 16), dyv = SSMF_LD16(dy);
	/* d_proj's x rows are written, not added to: row t holds step t + 1's k_t v_t term
	 * already, unless t is the last packet */
	ssmf_v16 dv_prior = t == c->len - 1 ? zero : (ssmf_v16)SSMF_LD16(c->dvp + t * DP);
	ssmf_v16 dv = dv_prior + c->Dh * dyv;
	*dDacc += dyv * (ssmf_v16)SSMF_LD16(v);
	const float *St = c->hist + (size_t)t * 256, *Sp = St - 256;
	ssmf_v16 dq = zero, rv = zero, rvp = zero, ra = zero;
#pragma GCC unroll 16
	for (int p = 0; p < 16; p++) {
		dS[p] += dy[p] * q;
		dq += SSMF_LD16(St + 16 * p) * dy[p];
		rv += dS[p] * v[p];
		if (!first) {
			rvp += dS[p] * vprev[p];
			ra += SSMF_LD16(Sp + 16 * p) * dS[p];
		}
		dS[p] *= al;
	}
	ssmf_v16 dvprev = zero;
	float gks[16] __attribute__((aligned(64))), bks[16] __attribute__((aligned(64)));
	SSMF_ST16(gks, ga * (ssmf_v16)SSMF_LD16(kt));
	SSMF_ST16(bks, be * (ssmf_v16)SSMF_LD16(kprev));
#pragma GCC unroll 4
	for (int n = 0; n < 16; n++) {
		ssmf_v16 ds = SSMF_LD16(c->dsn + 16 * n) + q[n] * dyv;
		dv += gks[n] * ds;
		if (!first)
			dvprev += bks[n] * ds;
		SSMF_ST16(c->dsn + 16 * n, ds * al);
	}
	/* d_k and d_q rows are written, not added to (no memset first): d_q has one term per
	 * packet; d_k's row t got its k_{t-1} term from step t + 1 already, unless t is the
	 * last packet */
	SSMF_ST16(c->dvp + t * DP, dv);
	SSMF_ST16(c->dqp + t * H * 16, dq);
	ssmf_v16 dk_prior = t == c->len - 1 ? zero : (ssmf_v16)SSMF_LD16(c->dkp + t * H * 16);
	SSMF_ST16(c->dkp + t * H * 16, dk_prior + ga * rv);
	ssmf_v16 gk = (ssmf_v16)SSMF_LD16(kt) * rv, bk = (ssmf_v16)SSMF_LD16(kprev) * rvp;
	float dal = ssmf_hsum16(&ra), dga = ssmf_hsum16(&gk), dbe = ssmf_hsum16(&bk);
	if (!first) {
		float *dkprev = c->dkp + (t - 1) * H * 16, *dvpr = c->dvp + (t - 1) * DP;
		SSMF_ST16(dkprev, be * rvp);
		SSMF_ST16(dvpr, dvprev);
	}
	c->d_alpha[t * H] = dal + dbe * (1.0f - l) * dtv; /* written: see scan_backward_writes */
	c->d_dt[t * H] = dbe * (1.0f - l) * al + dga * l;
	c->d_lam[t * H] = -dbe * dtv * al + dga * dtv;
}

/* Backward for N = P = 16, recompute included. The states are recomputed transposed (one
 * 16-lane vector over n per channel p: the same products as the forward, so the same
 * numbers), which turns the backward's sums over p (dq, and the r terms) into vector FMAs.
 * dS is kept in both layouts: transposed in registers for those sums, row-major in ws for
 * dv, which sums over n. Both see the identical updates (+= q dy, *= alpha). */
SSMF_HOT
static void scan_backward_16(const struct ssmf_flow_grads *g, const struct ssmf_layer_acts *la,
                             float *ws, float Dh, float *dD, const struct ssmf_dims *d, int b,
                             int h, int len, int T)
{
	size_t H = (size_t)d->H, DP = (size_t)d->DP, DI = (size_t)d->DI, r0 = (size_t)b * T;
	const float *alpha = la->alpha + r0 * H + h, *dt = la->dt + r0 * H + h;
	const float *lam = la->lam + r0 * H + h;
	const float *kp = la->k + (r0 * H + h) * 16, *qp = la->q + (r0 * H + h) * 16;
	const float *vp = la->proj + r0 * DP + d->O_X + (size_t)h * 16;
	float *dvp = g->d_proj + d->O_X + (size_t)h * 16;
	float *dkp = g->d_k + (size_t)h * 16, *dqp = g->d_q + (size_t)h * 16;
	const float *dyp = g->d_y + (size_t)h * 16;
	float *d_alpha = g->d_alpha + h, *d_dt = g->d_dt + h, *d_lam = g->d_lam + h;
	float *dsn = ws, *hist = ws + 256; /* (16, 16) row-major dS; (len, 16 p, 16 n) states */
	const ssmf_v16 zero = {0};

	/* recompute: S^T[p] = alpha S^T[p] + (beta vprev[p]) kprev + (gamma v[p]) k */
	ssmf_v16 S[16];
	for (int p = 0; p < 16; p++)
		S[p] = zero;
	for (int t = 0; t < len; t++) {
		__builtin_prefetch(kp + (t + 4) * H * 16);
		__builtin_prefetch(vp + (t + 4) * DP);
		float al = alpha[t * H], dtv = dt[t * H], l = lam[t * H];
		float be = (1.0f - l) * dtv * al, ga = l * dtv;
		ssmf_v16 k = SSMF_LD16(kp + t * H * 16), kprev = zero, vprev = zero;
		if (t > 0) {
			kprev = SSMF_LD16(kp + (t - 1) * H * 16);
			vprev = SSMF_LD16(vp + (t - 1) * DP);
		}
		/* the per-channel scalars, through memory: the FMAs then broadcast them */
		float bvs[16] __attribute__((aligned(64))), gvs[16] __attribute__((aligned(64)));
		SSMF_ST16(bvs, be * vprev);
		SSMF_ST16(gvs, ga * (ssmf_v16)SSMF_LD16(vp + t * DP));
#pragma GCC unroll 16
		for (int p = 0; p < 16; p++) {
			S[p] = al * S[p] + (bvs[p] * kprev + gvs[p] * k);
			SSMF_ST16(hist + ((size_t)t * 16 + p) * 16, S[p]);
		}
	}

	struct scan_back_ctx c = {alpha,   dt,   lam,   kp,  qp,   vp, dvp, dkp, dqp, dyp,
	                          d_alpha, d_dt, d_lam, dsn, hist, H,  DP,  DI,  Dh,  len};
	ssmf_v16 dS[16], dDacc = zero;
	for (int p = 0; p < 16; p++) {
		dS[p] = zero;
		SSMF_ST16(dsn + 16 * p, zero);
	}
	for (int t = len - 1; t > 0; t--)
		scan_back_step16(&c, dS, &dDacc, t, 0);
	if (len > 0)
		scan_back_step16(&c, dS, &dDacc, 0, 1);
	*dD += ssmf_hsum16(&dDacc);
}
#endif

int scan_backward_writes_dkq(const struct ssmf_dims *d)
{
#if !defined(SSMF_REAL_DOUBLE)
	return d->N == 16 && d->P == 16;
#else
	(void)d;
	return 0;
#endif
}

void scan_backward_bh(const struct ssmf_flow_grads *g, const struct ssmf_layer_acts *la,
                      ssmf_real *ws, const ssmf_real *Dskip, ssmf_real *dD,
                      const struct ssmf_dims *d, int b, int h, int len, int T)
{
#if !defined(SSMF_REAL_DOUBLE)
	if (scan_backward_writes_dkq(d)) {
		scan_backward_16(g, la, ws, Dskip[h], dD, d, b, h, len, T);
		return;
	}
#endif
	ssmf_real *S = ws, *hist = ws + (size_t)d->N * d->P;
	/* recompute the states (cheaper than storing B*T*H*N*P of them) */
	scan_forward_bhp(NULL, S, hist, la, Dskip, d, b, h, 0, d->P, len, T);
	scan_backward_bhp(g, la, hist, Dskip, dD, d, b, h, 0, d->P, len, T);
}
