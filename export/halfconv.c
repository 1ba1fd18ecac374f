/* halfconv.c - float32 to bfloat16 / IEEE half, round to nearest even.
 * Bit-level so the result does not depend on the compiler's _Float16 support;
 * the export test checks every exported value against numpy and torch casts. */
#include <string.h>

#include "export/halfconv.h"

static uint32_t bits_of(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float float_of(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

uint16_t ssmf_f32_to_bf16(float f)
{
	uint32_t u = bits_of(f);
	if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep the sign, force a quiet payload */
		return (uint16_t)((u >> 16) | 0x0040u);
	/* add half an ulp of bf16, plus one when the kept part is odd (ties to even);
	 * a carry into the exponent is the correct rounding, up to infinity */
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

uint16_t ssmf_f32_to_f16(float f)
{
	uint32_t u = bits_of(f);
	uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
	uint32_t a = u & 0x7fffffffu;
	if (a > 0x7f800000u) /* NaN */
		return sign | 0x7e00u;
	if (a >= 0x477ff000u) /* rounds to >= 65520: infinity */
		return sign | 0x7c00u;
	if (a < 0x38800000u) {       /* below 2^-14: a subnormal half (or zero) */
		if (a < 0x33000000u) /* below 2^-25: rounds to zero */
			return sign;
		uint32_t e = a >> 23;                     /* biased float exponent, 102..112 */
		uint32_t m = (a & 0x7fffffu) | 0x800000u; /* 24-bit significand */
		uint32_t shift = 126 - e;                 /* to units of 2^-24 */
		uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
		if (rem > half || (rem == half && (q & 1u)))
			q++;
		return sign | (uint16_t)q; /* q = 0x400 carries into the smallest normal */
	}
	/* normal: rebias the exponent (127 -> 15), round 13 dropped bits to nearest even */
	uint32_t r = a - 0x38000000u;
	r += 0xfffu + ((r >> 13) & 1u);
	return sign | (uint16_t)(r >> 13);
}

float ssmf_bf16_to_f32(uint16_t h)
{
	return float_of((uint32_t)h << 16);
}

float ssmf_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
	if (e == 0x1f) /* inf or NaN */
		return float_of(sign | 0x7f800000u | (m << 13));
	if (e == 0) {
		if (m == 0)
			return float_of(sign);
		float v = (float)m * 0x1p-24f; /* subnormal: exact in float */
		return sign ? -v : v;
	}
	return float_of(sign | ((e + 112) << 23) | (m << 13));
}
