/* bodies.h - the per-thread bodies of every CUDA kernel, as functions of explicit indices.
 *
 * Each body is what one GPU thread does: scan_fwd_body(b, h, p, ...) is thread (b, h, p) of
 * the forward scan. The kernels in ssm_cuda.cu only map a thread id to these indices; the host
 * tests (tests/cuda) and `ssmflow selftest` run the very same bodies over the whole grid on the
 * CPU and compare with the reference in ssm/. Plain C99/C++ on the host, CUDA under nvcc.
 *
 * Arithmetic follows ssm/ op by op, in float (the GPU path has no double build): the same
 * formulas in the same order, except where a sum over p (channels) or over rows becomes a
 * per-thread partial followed by an ordered reduction (deterministic, but associated
 * differently from the CPU loop; docs/cuda.md states the tolerances).
 *
 * Layouts are the CPU's: per-token tensors are (B,T,...) with bt = b*T + t; proj is (B,T,DP)
 * with the column offsets of struct ssmf_dims.
 */
#ifndef SSMF_CUDA_BODIES_H
#define SSMF_CUDA_BODIES_H

#ifdef __cplusplus
#ifndef _Static_assert
#define _Static_assert static_assert
#endif
extern "C" {
#endif
#include "ssm/ssm.h"
#ifdef __cplusplus
}
#endif
#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define SSMF_HD __host__ __device__
#else
#define SSMF_HD
#endif
#define SSMF_BODY static inline SSMF_HD

/* Largest d_state the register-resident scan supports. */
#define SSMF_CX_MAX_N 64
/* = SSMF_MAX_LAYERS of ssm/internal.h (checked in check.c) */
#define SSMF_CX_MAX_LAYERS 64
#define SSMF_CX_A_MIN      1e-4f
#define SSMF_CX_EPS        1e-5f
#define SSMF_CX_NL         SSMF_N_LOGITS
#define SSMF_CX_NC         SSMF_N_COMP

/* ssmf_norm_table() and ssmf_norm_consts() translated to a flat struct the device can read
 * (built once from the CPU tables by ssmf_cx_norm_build, so there is one source of truth). */
struct ssmf_cx_norm {
	uint32_t field_offset[SSMF_N_FEATURES]; /* the record field each feature reads, */
	uint32_t field_size[SSMF_N_FEATURES];   /* looked up by name (ssmf_record_field_u32) */
	int32_t kind[SSMF_N_FEATURES];
	uint32_t arg[SSMF_N_FEATURES];
	double scale[SSMF_N_FEATURES];
	double gap_dt_scale;
	uint32_t size_edges[SSMF_N_SIZE_BUCKETS - 1];
	uint32_t gap_edges[SSMF_N_GAP_BUCKETS - 1];
};

/* Pointers to one layer's parameters (or gradients) inside a flat buffer. */
struct ssmf_cx_layer {
	float *norm_w, *in_proj, *dt_bias, *a_bias, *gap_w, *bnorm_w, *bnorm_b, *cnorm_w, *cnorm_b,
	    *Dskip, *out_proj;
};

SSMF_BODY float cx_softplus(float x)
{
	return x > 20.0f ? x : log1pf(expf(x));
}

SSMF_BODY float cx_sigmoid(float x)
{
	if (x >= 0)
		return 1.0f / (1.0f + expf(-x));
	float e = expf(x);
	return e / (1.0f + e);
}

/* ---- input stage: thread per (b,t) row r; feat (R,F), gdt (R) ---- */
SSMF_BODY void input_body(int r, int valid, const struct ssmf_record *rec,
                          const struct ssmf_cx_norm *nm, float *feat, float *gdt)
{
	float *f = feat + (size_t)r * SSMF_N_FEATURES;
	if (!valid) {
		for (int i = 0; i < SSMF_N_FEATURES; i++)
			f[i] = 0;
		gdt[r] = 0;
		return;
	}
	const struct ssmf_record *x = rec + r;
	for (int i = 0; i < SSMF_N_FEATURES; i++) {
		uint32_t v = ssmf_record_read_u32(x, nm->field_offset[i], nm->field_size[i]);
		float o = 0;
		switch (nm->kind[i]) {
		case SSMF_NORM_LOG1P:
			o = (float)(log1p((double)v) * nm->scale[i]);
			break;
		case SSMF_NORM_LINEAR:
			o = (float)((double)v * nm->scale[i]);
			break;
		case SSMF_NORM_BIT:
			o = (v & nm->arg[i]) ? 1.0f : 0.0f;
			break;
		case SSMF_NORM_EQUAL:
			o = v == nm->arg[i] ? 1.0f : 0.0f;
			break;
		case SSMF_NORM_PROTO_OTHER:
			o = (v != 6 && v != 17 && v != 1 && v != 58) ? 1.0f : 0.0f;
			break;
		}
		f[i] = o;
	}
	gdt[r] = (float)log1p((double)x->gap_us * nm->gap_dt_scale);
}

/* ---- RMSNorm: thread per row r ---- */
/* out (R,C) = x * rstd * w; rstd (R) */
SSMF_BODY void rmsnorm_fwd_body(int r, float *out, float *rstd, const float *x, const float *w,
                                int C)
{
	const float *xr = x + (size_t)r * C;
	float *o = out + (size_t)r * C;
	float ss = 0;
	for (int c = 0; c < C; c++)
		ss += xr[c] * xr[c];
	float s = 1.0f / sqrtf(ss / (float)C + SSMF_CX_EPS);
	rstd[r] = s;
	for (int c = 0; c < C; c++)
		o[c] = xr[c] * s * w[c];
}

/* dx (R,C) += d/dx; wpart (R,C) written: row r's share of dw (summed by colsum). */
SSMF_BODY void rmsnorm_bwd_body(int r, float *dx, float *wpart, const float *dout, const float *x,
                                const float *rstd, const float *w, int C)
{
	const float *xr = x + (size_t)r * C, *dr = dout + (size_t)r * C;
	float *dxr = dx + (size_t)r * C, *pw = wpart + (size_t)r * C;
	float s = rstd[r], dot = 0;
	for (int c = 0; c < C; c++)
		dot += dr[c] * w[c] * xr[c] * s;
	dot /= (float)C;
	for (int c = 0; c < C; c++) {
		float xh = xr[c] * s;
		dxr[c] += s * (dr[c] * w[c] - xh * dot);
		pw[c] = dr[c] * xh;
	}
}

/* ---- column sums (deterministic two-stage reduction) ---- */
/* part (nchunk, C): thread (chunk, c) sums rows [chunk*rows, ...) of in (R,C) in order. */
SSMF_BODY void colsum_part_body(int chunk, int c, float *part, const float *in, int R, int C,
                                int rows)
{
	int r0 = chunk * rows, r1 = r0 + rows < R ? r0 + rows : R;
	float s = 0;
	for (int r = r0; r < r1; r++)
		s += in[(size_t)r * C + c];
	part[(size_t)chunk * C + c] = s;
}

/* out[c] (+)= sum over chunks, in order. */
SSMF_BODY void colsum_final_body(int c, float *out, const float *part, int nchunk, int C,
                                 int accumulate)
{
	float s = 0;
	for (int k = 0; k < nchunk; k++)
		s += part[(size_t)k * C + c];
	out[c] = accumulate ? out[c] + s : s;
}

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

SSMF_BODY void scan_fwd_body(SSMF_SCAN_FWD_ARGS) SSMF_SCAN_FWD_BODY(SSMF_CX_MAX_N) SSMF_BODY
    void scan_fwd_body16(SSMF_SCAN_FWD_ARGS) SSMF_SCAN_FWD_BODY(16)

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

        SSMF_BODY void scan_bwd_body(SSMF_SCAN_BWD_ARGS) SSMF_SCAN_BWD_BODY(SSMF_CX_MAX_N) SSMF_BODY
    void scan_bwd_body16(SSMF_SCAN_BWD_ARGS) SSMF_SCAN_BWD_BODY(16)

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

/* ---- heads ---- */
SSMF_BODY int cx_bucket(const uint32_t *edges, int n, uint32_t v)
{
	int b = 0;
	while (b < n - 1 && v >= edges[b])
		b++;
	return b;
}

SSMF_BODY float cx_ce(const float *l, int n, int target)
{
	float mx = l[0];
	for (int i = 1; i < n; i++)
		mx = l[i] > mx ? l[i] : mx;
	float s = 0;
	for (int i = 0; i < n; i++)
		s += expf(l[i] - mx);
	return logf(s) + mx - l[target];
}

SSMF_BODY void cx_ce_back(float *dl, const float *l, int n, int target, float scale)
{
	float mx = l[0];
	for (int i = 1; i < n; i++)
		mx = l[i] > mx ? l[i] : mx;
	float s = 0;
	for (int i = 0; i < n; i++)
		s += expf(l[i] - mx);
	for (int i = 0; i < n; i++)
		dl[i] = scale * (expf(l[i] - mx) / s - (i == target ? 1.0f : 0.0f));
}

/* NLL components (SSMF_N_COMP) of record nx under logits l (SSMF_N_LOGITS). */
SSMF_BODY void packet_nll_body(const float *l, const struct ssmf_record *nx,
                               const struct ssmf_cx_norm *nm, float *nll)
{
	nll[SSMF_COMP_DIR] = cx_ce(l + SSMF_LOGIT_DIR, SSMF_N_DIR, nx->direction ? 1 : 0);
	nll[SSMF_COMP_SIZE] = cx_ce(l + SSMF_LOGIT_SIZE, SSMF_N_SIZE_BUCKETS,
	                            cx_bucket(nm->size_edges, SSMF_N_SIZE_BUCKETS, nx->ip_len));
	nll[SSMF_COMP_GAP] = cx_ce(l + SSMF_LOGIT_GAP, SSMF_N_GAP_BUCKETS,
	                           cx_bucket(nm->gap_edges, SSMF_N_GAP_BUCKETS, nx->gap_us));
	float f = 0;
	if (nx->ip_proto == 6) {
		for (int i = 0; i < SSMF_N_TCP_BITS; i++) {
			float x = l[SSMF_LOGIT_FLAGS + i];
			float y = (nx->tcp_flags >> i) & 1 ? 1.0f : 0.0f;
			f += cx_softplus(x) - y * x;
		}
	}
	nll[SSMF_COMP_FLAGS] = f;
}

/* Thread per (b,t): nll (B,T,NC) of packet t under the logits of t-1; zeros for t = 0, t >= len. */
SSMF_BODY void nll_body(int b, int t, int T, int len, const float *logits,
                        const struct ssmf_record *rec, const struct ssmf_cx_norm *nm, float *nll)
{
	size_t bt = (size_t)b * T + t;
	float *o = nll + bt * SSMF_CX_NC;
	if (t < 1 || t >= len) {
		for (int c = 0; c < SSMF_CX_NC; c++)
			o[c] = 0;
		return;
	}
	packet_nll_body(logits + (bt - 1) * SSMF_CX_NL, rec + bt, nm, o);
}

/* Thread per flow b: score_comp (B,NC) and score (B), means over predicted packets in order. */
SSMF_BODY void score_body(int b, int T, int len, const float *nll, float *score, float *comp)
{
	float sum[SSMF_CX_NC] = {0, 0, 0, 0};
	for (int t = 1; t < len; t++)
		for (int c = 0; c < SSMF_CX_NC; c++)
			sum[c] += nll[((size_t)b * T + t) * SSMF_CX_NC + c];
	int np = len > 1 ? len - 1 : 0;
	float tot = 0;
	for (int c = 0; c < SSMF_CX_NC; c++) {
		comp[(size_t)b * SSMF_CX_NC + c] = np ? sum[c] / (float)np : 0.0f;
		tot += comp[(size_t)b * SSMF_CX_NC + c];
	}
	score[b] = tot;
}

/* Thread per (b,t): d_logits row t (the prediction of packet t+1), zeros when t+1 >= len. */
SSMF_BODY void dlogits_body(int b, int t, int T, int len, const float *logits,
                            const struct ssmf_record *rec, const struct ssmf_cx_norm *nm,
                            float scale, float *dlogits)
{
	size_t bt = (size_t)b * T + t;
	float *dl = dlogits + bt * SSMF_CX_NL;
	if (t + 1 >= len) {
		for (int c = 0; c < SSMF_CX_NL; c++)
			dl[c] = 0;
		return;
	}
	const float *l = logits + bt * SSMF_CX_NL;
	const struct ssmf_record *nx = rec + bt + 1;
	cx_ce_back(dl + SSMF_LOGIT_DIR, l + SSMF_LOGIT_DIR, SSMF_N_DIR, nx->direction ? 1 : 0,
	           scale);
	cx_ce_back(dl + SSMF_LOGIT_SIZE, l + SSMF_LOGIT_SIZE, SSMF_N_SIZE_BUCKETS,
	           cx_bucket(nm->size_edges, SSMF_N_SIZE_BUCKETS, nx->ip_len), scale);
	cx_ce_back(dl + SSMF_LOGIT_GAP, l + SSMF_LOGIT_GAP, SSMF_N_GAP_BUCKETS,
	           cx_bucket(nm->gap_edges, SSMF_N_GAP_BUCKETS, nx->gap_us), scale);
	for (int i = 0; i < SSMF_N_TCP_BITS; i++) {
		float y = (nx->tcp_flags >> i) & 1 ? 1.0f : 0.0f;
		dl[SSMF_LOGIT_FLAGS + i] =
		    nx->ip_proto == 6 ? scale * (cx_sigmoid(l[SSMF_LOGIT_FLAGS + i]) - y) : 0.0f;
	}
}

/* ---- supervised flow head ---- */
/* Thread per (b,c): pooled (B,D) = mean over t < len of hidden. */
SSMF_BODY void pool_body(int b, int c, int T, int D, int len, const float *hidden, float *pooled)
{
	float s = 0;
	for (int t = 0; t < len; t++)
		s += hidden[((size_t)b * T + t) * D + c];
	float inv = len ? 1.0f / (float)len : 0.0f;
	pooled[(size_t)b * D + c] = s * inv;
}

/* Thread per b: cls (B) = cls_b + cls_w . pooled */
SSMF_BODY void cls_body(int b, int D, const float *pooled, const float *w, const float *bias,
                        float *cls)
{
	float z = bias[0];
	for (int c = 0; c < D; c++)
		z += w[c] * pooled[(size_t)b * D + c];
	cls[b] = z;
}

/* Thread per b: dz (B), zero for unlabelled flows. */
SSMF_BODY void cls_dz_body(int b, const int32_t *label, const float *cls, float scale, float *dz)
{
	int y = label[b];
	dz[b] = (y == 0 || y == 1) ? scale * (cx_sigmoid(cls[b]) - (float)y) : 0.0f;
}

/* Thread per c (c == D: the bias): cls grads, summed over flows in order. */
SSMF_BODY void cls_grad_body(int c, int B, int D, const float *dz, const float *pooled, float *gw,
                             float *gb)
{
	float s = 0;
	for (int b = 0; b < B; b++)
		s += c < D ? dz[b] * pooled[(size_t)b * D + c] : dz[b];
	if (c < D)
		gw[c] += s;
	else
		gb[0] += s;
}

/* Thread per (b,t,c): d_hidden += dz cls_w / len for t < len */
SSMF_BODY void cls_dhidden_body(int b, int t, int c, int T, int D, int len, const float *dz,
                                const float *w, float *dhidden)
{
	if (t >= len)
		return;
	dhidden[((size_t)b * T + t) * D + c] += dz[b] * w[c] * (1.0f / (float)len);
}

/* ---- elementwise helpers ---- */
/* Thread per (r,c): out (R,C) = bias (C) (before an accumulating GEMM). */
SSMF_BODY void bias_fill_body(int r, int c, int C, const float *bias, float *out)
{
	out[(size_t)r * C + c] = bias[c];
}

/* Thread per chunk: part[chunk] = sum of squares of x[chunk*per ...) in order. */
SSMF_BODY void sumsq_body(int chunk, const float *x, size_t n, size_t per, float *part)
{
	size_t i0 = (size_t)chunk * per, i1 = i0 + per < n ? i0 + per : n;
	float s = 0;
	for (size_t i = i0; i < i1; i++)
		s += x[i] * x[i];
	part[chunk] = s;
}

/* Thread per parameter i: AdamW (PyTorch semantics, decoupled weight decay on mask[i] != 0).
 * g is scaled by gscale (gradient clipping) before use. bc1 = 1 - beta1^t, bc2 = 1 - beta2^t. */
SSMF_BODY void adamw_body(size_t i, float *p, const float *g, float *m, float *v, const float *mask,
                          float lr, float beta1, float beta2, float eps, float wd, float bc1,
                          float bc2, float gscale)
{
	float gi = g[i] * gscale;
	float mi = beta1 * m[i] + (1.0f - beta1) * gi;
	float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
	m[i] = mi;
	v[i] = vi;
	float pi = p[i];
	if (mask[i] != 0.0f)
		pi -= lr * wd * pi;
	pi -= lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
	p[i] = pi;
}

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
