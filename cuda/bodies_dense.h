/* bodies_dense.h - the bodies around the projections (the GEMMs are cuBLAS or the host
 * GEMM, not bodies): the input stage, RMSNorm, the column sums that reduce bias and norm
 * weight gradients, the bias fill. Their CPU counterparts: ssm/input.c, ssm/rmsnorm.c,
 * ssm/linear.c. */
#ifndef SSMF_CUDA_BODIES_DENSE_H
#define SSMF_CUDA_BODIES_DENSE_H

#include "cuda/bodies_common.h"

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

/* ---- bias fill ---- */
/* Thread per (r,c): out (R,C) = bias (C) (before an accumulating GEMM). */
SSMF_BODY void bias_fill_body(int r, int c, int C, const float *bias, float *out)
{
	out[(size_t)r * C + c] = bias[c];
}

#endif
