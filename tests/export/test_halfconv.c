/* test_halfconv.c - float32 -> bf16 / f16 rounding at its edges (ties, subnormals,
 * overflow, NaN), against the compiler's _Float16 cast and a bf16 reference in double. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export/halfconv.h"

static int failures;

static float f_of(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* bf16 by definition: the nearest of the two bf16 neighbours, ties to the even one. */
static uint16_t bf16_ref(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	if (isnan(f))
		return (uint16_t)((u >> 16) | 0x40);
	uint16_t lo = (uint16_t)(u >> 16), hi = (uint16_t)(lo + 1);
	double dl = fabs((double)f - (double)f_of((uint32_t)lo << 16));
	double dh = fabs((double)f_of((uint32_t)hi << 16) - (double)f);
	if ((u & 0xffff) == 0)
		return lo;
	if (isinf(f_of((uint32_t)hi << 16)) && (u & 0xffff) >= 0x8000)
		return (u & 0xffff) > 0x8000 || (lo & 1) ? hi : lo;
	return dl < dh || (dl == dh && !(lo & 1)) ? lo : hi;
}

static void check_one(uint32_t u)
{
	float f = f_of(u);
	uint16_t b = ssmf_f32_to_bf16(f), br = bf16_ref(f);
	if (b != br && failures++ < 10)
		printf("FAIL bf16(%a = 0x%08x): 0x%04x, want 0x%04x\n", (double)f, u, b, br);
#ifdef __FLT16_MAX__
	_Float16 h = (_Float16)f;
	uint16_t hr, hb = ssmf_f32_to_f16(f);
	memcpy(&hr, &h, 2);
	if (isnan(f)) /* any quiet NaN with the sign */
		hr = (uint16_t)((hr & 0x8000) | 0x7e00);
	if (hb != hr && failures++ < 10)
		printf("FAIL f16(%a = 0x%08x): 0x%04x, want 0x%04x\n", (double)f, u, hb, hr);
	if (!isnan(f) && ssmf_f16_to_f32(hb) != (float)h && failures++ < 10)
		printf("FAIL f16 back(0x%04x)\n", hb);
#endif
	if (!isnan(f) && ssmf_bf16_to_f32(b) != f_of((uint32_t)b << 16) && failures++ < 10)
		printf("FAIL bf16 back(0x%04x)\n", b);
}

int main(void)
{
	/* every float with 16 low bits from a set of interesting patterns: ties, just
	 * around ties, exact values; all exponents and signs */
	static const uint32_t low[] = {0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x2000,
	                               0x7fff, 0x8000, 0x8001, 0xffff, 0xe000, 0x3000, 0x5000};
	long n = 0;
	for (uint32_t hi = 0; hi < 0x10000; hi++)
		for (size_t k = 0; k < sizeof low / sizeof *low; k++, n++)
			check_one(hi << 16 | low[k]);
	/* and a stride through all 2^32 patterns */
	for (uint64_t u = 0; u < (1ull << 32); u += 4099, n++)
		check_one((uint32_t)u);
	printf("halfconv: %ld values, %d failures%s\n", n, failures,
#ifdef __FLT16_MAX__
	       ""
#else
	       " (f16 not checked: no _Float16)"
#endif
	);
	return failures ? 1 : 0;
}
