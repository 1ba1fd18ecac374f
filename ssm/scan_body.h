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

static inline void ssmf_scan_step(ssmf_real *restrict S, int ldS, ssmf_real *restrict y,
                                  const ssmf_real *kprev, const ssmf_real *vprev,
                                  const ssmf_real *k, const ssmf_real *v, const ssmf_real *q,
                                  ssmf_real alpha, ssmf_real beta, ssmf_real gamma, ssmf_real Dh,
                                  int N, int np)
{
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
