/* scan_body.h - one step of the exponential-trapezoidal recurrence.
 *
 * S_t = alpha S_{t-1} + beta k_{t-1} v_{t-1}^T + gamma k_t v_t^T   (S is N x P)
 * y_t = S_t^T q_t + D v_t
 *
 * A function of explicit indices and plain pointers, no allocation, no globals:
 * sequence mode, step mode and (later) a CUDA thread per (flow, head, channel)
 * all run this body. np channels starting at the pointers given; S rows have
 * stride ldS.
 */
#ifndef SSMF_SCAN_BODY_H
#define SSMF_SCAN_BODY_H

#include "ssm/internal.h"

#if !defined(SSMF_REAL_DOUBLE)
/* The default shape, N = 16 state rows by P = 16 channels, in float: one 16-lane vector per
 * state row, so sequence mode keeps the whole state in registers for a flow. The same
 * body serves step mode (S loaded and stored around it), so the two modes do the same
 * arithmetic. y sums its rows in four interleaved partial sums (latency), then adds D v. */
typedef float ssmf_v16 __attribute__((vector_size(64)));
typedef float ssmf_v16u __attribute__((vector_size(64), aligned(4), may_alias));
#define SSMF_LD16(p)    (*(const ssmf_v16u *)(p))
#define SSMF_ST16(p, v) (*(ssmf_v16u *)(p) = (v))

static inline __attribute__((always_inline)) void
ssmf_scan_step16(ssmf_v16 *restrict S, ssmf_v16 *yout, const float *kprev, const ssmf_v16 *vprev,
                 const float *k, const ssmf_v16 *v, const float *q, float alpha, float beta,
                 float gamma, float Dh)
{
	ssmf_v16 bv = beta * *vprev, gv = gamma * *v, y[4] = {{0}, {0}, {0}, {0}};
#pragma GCC unroll 16
	for (int n = 0; n < 16; n++) {
		S[n] = alpha * S[n] + (kprev[n] * bv + k[n] * gv);
		y[n & 3] += q[n] * S[n];
	}
	*yout = ((y[0] + y[1]) + (y[2] + y[3])) + Dh * *v;
}
#endif

static inline __attribute__((always_inline)) void
ssmf_scan_step(ssmf_real *restrict S, int ldS, ssmf_real *restrict y, const ssmf_real *kprev,
               const ssmf_real *vprev, const ssmf_real *k, const ssmf_real *v, const ssmf_real *q,
               ssmf_real alpha, ssmf_real beta, ssmf_real gamma, ssmf_real Dh, int N, int np)
{
#if !defined(SSMF_REAL_DOUBLE)
	if (N == 16 && np == 16 && ldS == 16) {
		ssmf_v16 St[16];
		for (int n = 0; n < 16; n++)
			St[n] = SSMF_LD16(S + 16 * n);
		ssmf_v16 yv, vp = SSMF_LD16(vprev), vt = SSMF_LD16(v);
		ssmf_scan_step16(St, &yv, kprev, &vp, k, &vt, q, alpha, beta, gamma, Dh);
		for (int n = 0; n < 16; n++)
			SSMF_ST16(S + 16 * n, St[n]);
		SSMF_ST16(y, yv);
		return;
	}
#endif
	for (int p = 0; p < np; p++)
		y[p] = 0;
	for (int n = 0; n < N; n++) {
		ssmf_real ck = beta * kprev[n], cg = gamma * k[n], qn = q[n];
		ssmf_real *restrict s = S + (size_t)n * ldS;
		for (int p = 0; p < np; p++) {
			ssmf_real hv = alpha * s[p] + ck * vprev[p] + cg * v[p];
			s[p] = hv;
			y[p] += qn * hv;
		}
	}
	for (int p = 0; p < np; p++)
		y[p] += Dh * v[p];
}

#endif
