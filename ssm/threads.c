/* threads.c - the thread count used by every parallel loop of the model. */
#ifdef _OPENMP
#include <omp.h>
#endif

#include "ssm/internal.h"

static int g_threads;

void ssmf_set_threads(int n)
{
	g_threads = n > 0 ? n : 0;
}

int ssmf_get_threads(void)
{
	return ssmf_threads();
}

int ssmf_threads(void)
{
#ifdef _OPENMP
	/* inside a parallel region (ssmf_forward_backward's flows) every loop runs on the
	 * calling thread alone */
	if (omp_in_parallel())
		return 1;
	return g_threads > 0 ? g_threads : omp_get_max_threads();
#else
	return 1;
#endif
}

int ssmf_thread_id(void)
{
#ifdef _OPENMP
	return omp_get_thread_num();
#else
	return 0;
#endif
}

/* The clone of the SSMF_HOT loops this CPU runs (ssm/internal.h); the clones differ in FMA
 * contraction and vector width, so float results are reproducible bit for bit on one level
 * and differ in rounding across levels. GCC's resolver picks by the same test. */
const char *ssmf_cpu_kernels(void)
{
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(SSMF_NO_CLONES)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("x86-64-v4"))
		return "x86-64-v4";
	if (__builtin_cpu_supports("x86-64-v3"))
		return "x86-64-v3";
	return "x86-64";
#else
	return "compiler target"; /* no clones: one build of each loop, for -march's target */
#endif
}
