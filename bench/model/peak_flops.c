/* peak_flops.c - the core's fp32 FMA peak, measured: independent FMA chains on the widest
 * vectors the CPU has (AVX-512, else AVX2+FMA, else SSE), enough chains to hide latency. */
#include <time.h>

#include "peak_flops.h"

typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));

#define CHAINS 12

__attribute__((target("avx512f"))) static double run512(long iters)
{
	v16 m, a;
	for (int i = 0; i < 16; i++) {
		m[i] = 0.999999f;
		a[i] = 1e-7f;
	}
	/* twelve named chains: the registers, not an array the compiler keeps in memory */
	v16 c0 = a, c1 = a * 2, c2 = a * 3, c3 = a * 4, c4 = a * 5, c5 = a * 6;
	v16 c6 = a * 7, c7 = a * 8, c8 = a * 9, c9 = a * 10, c10 = a * 11, c11 = a * 12;
	for (long i = 0; i < iters; i++) {
		c0 = c0 * m + a;
		c1 = c1 * m + a;
		c2 = c2 * m + a;
		c3 = c3 * m + a;
		c4 = c4 * m + a;
		c5 = c5 * m + a;
		c6 = c6 * m + a;
		c7 = c7 * m + a;
		c8 = c8 * m + a;
		c9 = c9 * m + a;
		c10 = c10 * m + a;
		c11 = c11 * m + a;
	}
	v16 t = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
	float s = 0;
	for (int i = 0; i < 16; i++)
		s += t[i];
	return (double)s;
}

__attribute__((target("avx2,fma"))) static double run256(long iters)
{
	v8 m, a;
	for (int i = 0; i < 8; i++) {
		m[i] = 0.999999f;
		a[i] = 1e-7f;
	}
	/* twelve named chains: the registers, not an array the compiler keeps in memory */
	v8 c0 = a, c1 = a * 2, c2 = a * 3, c3 = a * 4, c4 = a * 5, c5 = a * 6;
	v8 c6 = a * 7, c7 = a * 8, c8 = a * 9, c9 = a * 10, c10 = a * 11, c11 = a * 12;
	for (long i = 0; i < iters; i++) {
		c0 = c0 * m + a;
		c1 = c1 * m + a;
		c2 = c2 * m + a;
		c3 = c3 * m + a;
		c4 = c4 * m + a;
		c5 = c5 * m + a;
		c6 = c6 * m + a;
		c7 = c7 * m + a;
		c8 = c8 * m + a;
		c9 = c9 * m + a;
		c10 = c10 * m + a;
		c11 = c11 * m + a;
	}
	v8 t = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
	float s = 0;
	for (int i = 0; i < 8; i++)
		s += t[i];
	return (double)s;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

volatile double peak_sink;

double peak_flops_per_core(const char **isa)
{
	int w;
	double (*fn)(long);
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f")) {
		fn = run512;
		w = 16;
		*isa = "AVX-512 FMA";
	} else {
		fn = run256;
		w = 8;
		*isa = "AVX2 FMA";
	}
	/* ten runs of ~20 ms each, the best: noise (other load, a lower clock) only lowers a
	 * run, so the best is the conservative peak for a percentage */
	long iters = 8000000;
	double best = 0;
	fn(iters / 10);
	for (int rep = 0; rep < 10; rep++) {
		double t0 = now();
		peak_sink = fn(iters);
		double dt = now() - t0;
		double f = 2.0 * w * CHAINS * (double)iters / dt;
		if (f > best)
			best = f;
	}
	return best;
}
