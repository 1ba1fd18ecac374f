/* bodies_mixer.h - the mixer around the scan, forward and backward: discretisation (dt,
 * A, alpha, lambda), the B/C norms, the rotary phases and the output gate. Their CPU
 * counterparts: ssm/mixer_prep.c, ssm/mixer_rotary.c, ssm/mixer_gate.c. */
#ifndef SSMF_CUDA_BODIES_MIXER_H
#define SSMF_CUDA_BODIES_MIXER_H

#include "cuda/bodies_common.h"

/* ---- mixer: discretisation, thread per (row r, head h) ---- */
SSMF_BODY void prep_dt_body(int r, int h, struct ssmf_dims d, const float *proj, const float *gdt,
                            const float *dt_bias, const float *a_bias, const float *gap_w,
                            float *DT, float *A, float *alpha, float *lam)
{
	const float *pr = proj + (size_t)r * d.DP;
	size_t i = (size_t)r * d.H + h;
	float dtv = cx_softplus(pr[d.O_DT + h] + dt_bias[h]) + cx_softplus(gap_w[h]) * gdt[r];
	float spa = cx_softplus(pr[d.O_A + h] + a_bias[h]);
	float a = spa > SSMF_CX_A_MIN ? -spa : -SSMF_CX_A_MIN;
	DT[i] = dtv;
	A[i] = a;
	alpha[i] = expf(a * dtv);
	lam[i] = cx_sigmoid(pr[d.O_LAM + h]);
}

/* B and C: RMSNorm * weight + bias, thread per row r; bn, cn (R,N), rstd_b, rstd_c (R). */
SSMF_BODY void bcnorm_body(int r, struct ssmf_dims d, const float *proj, const float *bw,
                           const float *bb, const float *cw, const float *cb, float *bn, float *cn,
                           float *rstd_b, float *rstd_c)
{
	for (int which = 0; which < 2; which++) {
		const float *x = proj + (size_t)r * d.DP + (which ? d.O_C : d.O_B);
		const float *w = which ? cw : bw, *bias = which ? cb : bb;
		float *out = (which ? cn : bn) + (size_t)r * d.N;
		float ss = 0;
		for (int n = 0; n < d.N; n++)
			ss += x[n] * x[n];
		float s = 1.0f / sqrtf(ss / (float)d.N + SSMF_CX_EPS);
		(which ? rstd_c : rstd_b)[r] = s;
		for (int n = 0; n < d.N; n++)
			out[n] = x[n] * s * w[n] + bias[n];
	}
}

/* ---- rotary: thread per (b, h, angle j), sequential over t < len ---- */
/* phi (B,T,H,NA) cumulative phase; k, q (B,T,H,N) rotated bn, cn (pair 2j, 2j+1). */
SSMF_BODY void rotary_fwd_body(int b, int h, int j, struct ssmf_dims d, int T, int len,
                               const float *proj, const float *DT, const float *bn, const float *cn,
                               float *phi, float *k, float *q)
{
	float ph = 0;
	for (int t = 0; t < len; t++) {
		size_t bt = (size_t)b * T + t, i = bt * d.H + h;
		ph = ph + DT[i] * proj[bt * d.DP + d.O_TH + j];
		phi[i * d.NA + j] = ph;
		float c = cosf(ph), s = sinf(ph);
		const float *bnr = bn + bt * d.N + 2 * j, *cnr = cn + bt * d.N + 2 * j;
		float *kr = k + i * d.N + 2 * j, *qr = q + i * d.N + 2 * j;
		kr[0] = c * bnr[0] - s * bnr[1];
		kr[1] = s * bnr[0] + c * bnr[1];
		qr[0] = c * cnr[0] - s * cnr[1];
		qr[1] = s * cnr[0] + c * cnr[1];
	}
}

/* Writes dbn_h, dcn_h (B,T,H,N) pair j, dth_h (B,T,H,NA) and ddt_part (B,T,H,NA): this angle's
 * share of d DT (summed over j by prep_bwd_body), for t < len. */
SSMF_BODY void rotary_bwd_body(int b, int h, int j, struct ssmf_dims d, int T, int len,
                               const float *proj, const float *DT, const float *phi, const float *k,
                               const float *q, const float *dk, const float *dq, float *dbn_h,
                               float *dcn_h, float *dth_h, float *ddt_part)
{
	float G = 0;
	for (int t = len - 1; t >= 0; t--) {
		size_t bt = (size_t)b * T + t, i = bt * d.H + h, o = i * d.N + 2 * j;
		float ph = phi[i * d.NA + j];
		float c = cosf(ph), s = sinf(ph);
		float dk0 = dk[o], dk1 = dk[o + 1], dq0 = dq[o], dq1 = dq[o + 1];
		G += -dk0 * k[o + 1] + dk1 * k[o] - dq0 * q[o + 1] + dq1 * q[o];
		dbn_h[o] = c * dk0 + s * dk1;
		dbn_h[o + 1] = -s * dk0 + c * dk1;
		dcn_h[o] = c * dq0 + s * dq1;
		dcn_h[o + 1] = -s * dq0 + c * dq1;
		dth_h[i * d.NA + j] = G * DT[i];
		ddt_part[i * d.NA + j] = G * proj[bt * d.DP + d.O_TH + j];
	}
}

/* ---- prep backward: thread per row bt ----
 * Writes the dt, a, lambda, B, C and theta columns of d_proj (zeros for t >= len) and ppart
 * (B*T, 3H+4N): this row's share of dt_bias | a_bias | gap_w | B_norm.w | B_bias | C_norm.w |
 * C_bias, the order of the parameter buffer (summed by colsum). */
SSMF_BODY void prep_bwd_body(int bt, struct ssmf_dims d, int valid, const float *proj,
                             const float *gdt, const float *DT, const float *A, const float *alpha,
                             const float *lam, const float *rstd_b, const float *rstd_c,
                             const float *ddt, const float *ddt_part, const float *dalpha,
                             const float *dlam, const float *dbn_h, const float *dcn_h,
                             const float *dth_h, struct ssmf_cx_layer p, float *dproj, float *ppart)
{
	int H = d.H, N = d.N, NA = d.NA;
	size_t np = (size_t)3 * H + 4 * N;
	float *pp = ppart + (size_t)bt * np;
	float *dpr = dproj + (size_t)bt * d.DP;
	if (!valid) {
		for (size_t c = 0; c < np; c++)
			pp[c] = 0;
		for (int c = d.O_B; c < d.DP; c++)
			dpr[c] = 0;
		return;
	}
	const float *pr = proj + (size_t)bt * d.DP;
	for (int h = 0; h < H; h++) {
		size_t i = (size_t)bt * H + h;
		float rot = 0;
		for (int j = 0; j < NA; j++)
			rot += ddt_part[i * NA + j];
		float dtv = DT[i], av = A[i], al = alpha[i];
		float dDT = (ddt[i] + rot) + dalpha[i] * al * av;
		float dA = dalpha[i] * al * dtv;
		float dx1 = dDT * cx_sigmoid(pr[d.O_DT + h] + p.dt_bias[h]);
		dpr[d.O_DT + h] = dx1;
		pp[h] = dx1;
		pp[2 * H + h] = dDT * gdt[bt] * cx_sigmoid(p.gap_w[h]);
		float x2 = pr[d.O_A + h] + p.a_bias[h];
		float dx2 = 0;
		if (cx_softplus(x2) > SSMF_CX_A_MIN)
			dx2 = -dA * cx_sigmoid(x2);
		dpr[d.O_A + h] = dx2;
		pp[H + h] = dx2;
		float l = lam[i];
		dpr[d.O_LAM + h] = dlam[i] * l * (1.0f - l);
	}
	for (int j = 0; j < NA; j++) {
		float s = 0;
		for (int h = 0; h < H; h++)
			s += dth_h[((size_t)bt * H + h) * NA + j];
		dpr[d.O_TH + j] = s;
	}
	/* B then C: d of rmsnorm(x) w + bias, the heads' shares summed in order */
	for (int which = 0; which < 2; which++) {
		const float *share = which ? dcn_h : dbn_h;
		const float *x = pr + (which ? d.O_C : d.O_B);
		const float *w = which ? p.cnorm_w : p.bnorm_w;
		float s = which ? rstd_c[bt] : rstd_b[bt];
		float *pw = pp + 3 * H + (which ? 2 * N : 0), *pb = pw + N;
		float *dx = dpr + (which ? d.O_C : d.O_B);
		float dot = 0;
		for (int n = 0; n < N; n++) {
			float g = 0;
			for (int h = 0; h < H; h++)
				g += share[((size_t)bt * H + h) * N + n];
			dot += g * w[n] * x[n] * s;
		}
		dot /= (float)N;
		for (int n = 0; n < N; n++) {
			float g = 0;
			for (int h = 0; h < H; h++)
				g += share[((size_t)bt * H + h) * N + n];
			float xh = x[n] * s;
			dx[n] = s * (g * w[n] - xh * dot);
			pw[n] = g * xh;
			pb[n] = g;
		}
	}
}

/* ---- gate: thread per (row r, channel c) ---- */
SSMF_BODY void gate_fwd_body(int r, int c, struct ssmf_dims d, const float *y, const float *proj,
                             float *yg)
{
	float z = proj[(size_t)r * d.DP + d.O_Z + c];
	yg[(size_t)r * d.DI + c] = y[(size_t)r * d.DI + c] * z * cx_sigmoid(z);
}

/* writes dy and the z column of d_proj */
SSMF_BODY void gate_bwd_body(int r, int c, struct ssmf_dims d, const float *dyg, const float *y,
                             const float *proj, float *dy, float *dproj)
{
	size_t o = (size_t)r * d.DI + c, zo = (size_t)r * d.DP + d.O_Z + c;
	float z = proj[zo], s = cx_sigmoid(z), g = dyg[o];
	dy[o] = g * z * s;
	dproj[zo] = g * y[o] * s * (1.0f + z * (1.0f - s));
}

#endif
