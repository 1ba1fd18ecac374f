/* mathfn.h - activation functions shared by the ops (ssmf_real).
 *
 * In float builds these are branch-free polynomial versions, so that the compiler turns
 * the loops that call them into SIMD code (a libm call in a loop keeps it scalar: expf,
 * log1pf and sincosf were a third of the forward pass). Accuracy (tests/ssm/test_mathfn.c
 * checks it against libm in double): exp and sigmoid within 2 ulp-ish (relative 3e-7),
 * softplus 4e-7 relative, sin/cos within 2e-7 absolute for |x| <= 65536 (the rotary
 * phases). The double build, used for the finite-difference tests, keeps libm.
 */
#ifndef SSMF_MATHFN_H
#define SSMF_MATHFN_H

#include <string.h>

#include "ssm/internal.h"

#ifndef SSMF_REAL_DOUBLE

static inline uint32_t ssmf_f2u(float x)
{
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	return u;
}

static inline float ssmf_u2f(uint32_t u)
{
	float x;
	memcpy(&x, &u, sizeof x);
	return x;
}

/* 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer, which then sits
 * in the low mantissa bits (no float-to-int conversion, so NaN stays defined). */
#define SSMF_ROUND_MAGIC 12582912.0f

/* exp(x): x = n ln2 + r, |r| <= ln2/2, Cephes' degree-6 polynomial, times 2^n. */
static inline float ssmf_expf(float x)
{
	float t = x * 1.44269504088896341f + SSMF_ROUND_MAGIC;
	float n = t - SSMF_ROUND_MAGIC;
	float r = x - n * 0.693359375f;
	r = r - n * -2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	/* 2^n as 2 * 2^(n-1): n = 128 (x just below the overflow threshold) stays finite */
	uint32_t e = (ssmf_f2u(t) - 0x4B400000u + 126u) << 23;
	float y = (p * 2.0f) * ssmf_u2f(e);
	y = x < -86.6f ? 0.0f : y; /* below: results under 2^-125, flushed */
	y = x > 88.72283f ? __builtin_inff() : y;
	return y;
}

/* log(1 + u) for u in [0, 1]: 2 atanh(s), s = u / (2 + u) <= 1/3, series to s^15. */
static inline float ssmf_log1p_unit(float u)
{
	float s = u / (2.0f + u), z = s * s;
	float p = 1.0f / 15;
	p = p * z + 1.0f / 13;
	p = p * z + 1.0f / 11;
	p = p * z + 1.0f / 9;
	p = p * z + 1.0f / 7;
	p = p * z + 1.0f / 5;
	p = p * z + 1.0f / 3;
	p = p * z + 1.0f;
	return 2.0f * s * p;
}

/* softplus(x) = max(x, 0) + log1p(exp(-|x|)) */
static inline float ssmf_softplus(float x)
{
	float ax = x < 0 ? -x : x;
	return (x > 0 ? x : 0.0f) + ssmf_log1p_unit(ssmf_expf(-ax));
}

static inline float ssmf_sigmoid(float x)
{
	return 1.0f / (1.0f + ssmf_expf(-x));
}

/* sin and cos of x: quadrant j = rint(x 2/pi), r = x - j pi/2 in three FMA steps, Cephes'
 * polynomials on [-pi/4, pi/4], then the quadrant's swap and signs. */
static inline void ssmf_sincos(float x, float *sn, float *cs)
{
	float t = x * 0.636619772367581343f + SSMF_ROUND_MAGIC;
	float j = t - SSMF_ROUND_MAGIC;
	uint32_t q = ssmf_f2u(t); /* low bits: j mod 4 (two's complement) */
	float r = __builtin_fmaf(j, -1.5707963705062866f, x);
	r = __builtin_fmaf(j, 4.371138828673793e-08f, r);
	r = __builtin_fmaf(j, 1.7151245100058819e-15f, r);
	float z = r * r;
	float s = -1.9515295891e-4f;
	s = s * z + 8.3321608736e-3f;
	s = s * z + -1.6666654611e-1f;
	s = s * z * r + r;
	float c = 2.443315711809948e-5f;
	c = c * z + -1.388731625493765e-3f;
	c = c * z + 4.166664568298827e-2f;
	c = c * z * z - 0.5f * z + 1.0f;
	float sv = (q & 1u) ? c : s;
	float cv = (q & 1u) ? s : c;
	sv = (q & 2u) ? -sv : sv;
	cv = ((q + 1u) & 2u) ? -cv : cv;
	*sn = sv;
	*cs = cv;
}

#else /* double: libm, for the finite-difference tests */

static inline ssmf_real ssmf_expf(ssmf_real x)
{
	return exp(x);
}

static inline ssmf_real ssmf_softplus(ssmf_real x)
{
	return x > R(20) ? x : log1p(exp(x));
}

static inline ssmf_real ssmf_sigmoid(ssmf_real x)
{
	if (x >= 0)
		return R(1) / (R(1) + exp(-x));
	ssmf_real e = exp(x);
	return e / (R(1) + e);
}

static inline void ssmf_sincos(ssmf_real x, ssmf_real *sn, ssmf_real *cs)
{
	*sn = sin(x);
	*cs = cos(x);
}

#endif

#endif
