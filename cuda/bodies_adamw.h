/* bodies_adamw.h - the optimizer: partial sums of squares for the gradient norm (clipping)
 * and the AdamW update. The CPU counterpart: ssm/adamw.c. */
#ifndef SSMF_CUDA_BODIES_ADAMW_H
#define SSMF_CUDA_BODIES_ADAMW_H

#include "cuda/bodies_common.h"

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

#endif
