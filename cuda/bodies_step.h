/* bodies_step.h - step mode: one packet of each of n flows against per-flow state in a slot
 * table (rotary phase, scan state, pending prediction). The CPU counterpart: ssm/step.c.
 * Its row-wise stages (input, norms, discretisation, gate) run the sequence bodies over the
 * n rows. */
#ifndef SSMF_CUDA_BODIES_STEP_H
#define SSMF_CUDA_BODIES_STEP_H

#include "cuda/bodies_common.h"
#include "cuda/bodies_heads.h"

/* ---- step mode: one packet of each of n flows; state per flow in a slot table ----
 * Slot layout = ssmf_step's: seen flag (1), pending logits (NL), then per layer and head
 * phase (NA), k_prev (N), v_prev (P), S (N x P). slot[i] < 0: row i is padding, skipped. */
SSMF_BODY size_t cx_head_state(struct ssmf_dims d)
{
	return (size_t)d.NA + d.N + d.P + (size_t)d.N * d.P;
}

SSMF_BODY size_t cx_state_size(struct ssmf_dims d)
{
	return 1 + SSMF_CX_NL + (size_t)d.L * d.H * cx_head_state(d);
}

SSMF_BODY float *cx_head_ptr(float *state, const int32_t *slot, int i, int l, int h,
                             struct ssmf_dims d)
{
	return state + (size_t)slot[i] * cx_state_size(d) + 1 + SSMF_CX_NL +
	       ((size_t)l * d.H + h) * cx_head_state(d);
}

/* Thread per (i, h, j): advance flow i's phase, write k, q (n,H,N) pair j. */
SSMF_BODY void step_rotary_body(int i, int h, int j, int l, struct ssmf_dims d, const int32_t *slot,
                                float *state, const float *proj, const float *DT, const float *bn,
                                const float *cn, float *k, float *q)
{
	if (slot[i] < 0)
		return;
	float *phi = cx_head_ptr(state, slot, i, l, h, d);
	size_t ih = (size_t)i * d.H + h;
	float ph = phi[j] + DT[ih] * proj[(size_t)i * d.DP + d.O_TH + j];
	phi[j] = ph;
	float c = cosf(ph), s = sinf(ph);
	const float *bnr = bn + (size_t)i * d.N + 2 * j, *cnr = cn + (size_t)i * d.N + 2 * j;
	float *kr = k + ih * d.N + 2 * j, *qr = q + ih * d.N + 2 * j;
	kr[0] = c * bnr[0] - s * bnr[1];
	kr[1] = s * bnr[0] + c * bnr[1];
	qr[0] = c * cnr[0] - s * cnr[1];
	qr[1] = s * cnr[0] + c * cnr[1];
}

/* Thread per (i, h, p): one step of the recurrence for column p of flow i's state; y (n,DI).
 * k_prev is read here and replaced by step_commit_body afterwards (all p read it first). */
SSMF_BODY void step_scan_body(int i, int h, int p, int l, struct ssmf_dims d, const int32_t *slot,
                              float *state, const float *proj, const float *k, const float *q,
                              const float *alpha, const float *DT, const float *lam,
                              const float *Dskip, float *y)
{
	float *yo = y + (size_t)i * d.DI + (size_t)h * d.P + p;
	if (slot[i] < 0) {
		*yo = 0;
		return;
	}
	int N = d.N, P = d.P;
	float *base = cx_head_ptr(state, slot, i, l, h, d);
	const float *kprev = base + d.NA;
	float *vprev = base + d.NA + N, *S = vprev + P;
	size_t ih = (size_t)i * d.H + h;
	float al = alpha[ih], dtv = DT[ih], lm = lam[ih];
	float be = (1.0f - lm) * dtv * al, ga = lm * dtv;
	float v = proj[(size_t)i * d.DP + d.O_X + (size_t)h * P + p], vp = vprev[p];
	const float *kt = k + ih * N, *qt = q + ih * N;
	float yv = 0;
	for (int n = 0; n < N; n++) {
		float ck = be * kprev[n], cg = ga * kt[n];
		float hv = al * S[(size_t)n * P + p] + ck * vp + cg * v;
		S[(size_t)n * P + p] = hv;
		yv += qt[n] * hv;
	}
	yv += Dskip[h] * v;
	*yo = yv;
	vprev[p] = v;
}

/* Thread per (i, h, n): k_prev = k. */
SSMF_BODY void step_commit_body(int i, int h, int n, int l, struct ssmf_dims d, const int32_t *slot,
                                float *state, const float *k)
{
	if (slot[i] < 0)
		return;
	cx_head_ptr(state, slot, i, l, h, d)[d.NA + n] = k[((size_t)i * d.H + h) * d.N + n];
}

/* Thread per i: surprise of rec[i] under the flow's pending prediction (zeros for its first
 * packet), then the new prediction becomes pending. nll (n,NC), logits_out (n,NL). */
SSMF_BODY void step_heads_body(int i, struct ssmf_dims d, const int32_t *slot, float *state,
                               const struct ssmf_record *rec, const struct ssmf_cx_norm *nm,
                               const float *logits, float *nll, float *logits_out)
{
	float *o = nll + (size_t)i * SSMF_CX_NC;
	const float *lg = logits + (size_t)i * SSMF_CX_NL;
	if (slot[i] < 0) {
		for (int c = 0; c < SSMF_CX_NC; c++)
			o[c] = 0;
		for (int c = 0; c < SSMF_CX_NL; c++)
			logits_out[(size_t)i * SSMF_CX_NL + c] = lg[c];
		return;
	}
	float *st = state + (size_t)slot[i] * cx_state_size(d);
	if (st[0] != 0) {
		packet_nll_body(st + 1, rec + i, nm, o);
	} else {
		for (int c = 0; c < SSMF_CX_NC; c++)
			o[c] = 0;
	}
	for (int c = 0; c < SSMF_CX_NL; c++) {
		st[1 + c] = lg[c];
		logits_out[(size_t)i * SSMF_CX_NL + c] = lg[c];
	}
	st[0] = 1;
}

/* Thread per (slot list entry e, element x): zero a flow's state. */
SSMF_BODY void step_reset_body(int e, size_t x, struct ssmf_dims d, const int32_t *slots,
                               float *state)
{
	if (slots[e] >= 0)
		state[(size_t)slots[e] * cx_state_size(d) + x] = 0;
}

#endif
