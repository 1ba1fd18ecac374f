/* threads.c - the thread count used by every parallel loop of the model. */
#ifdef _OPENMP
#include <omp.h>
#endif

#include <string.h>

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

/* The level the clones' resolver picks on this CPU. */
static int detected_level(void)
{
#ifdef SSMF_CLONES
	if (__builtin_cpu_supports("x86-64-v4"))
		return 4;
	if (__builtin_cpu_supports("x86-64-v3"))
		return 3;
	return 1;
#else
	return 0;
#endif
}

static int g_level_cap = 4;

static const char *const level_names[] = {"compiler target", "x86-64", "", "x86-64-v3",
                                          "x86-64-v4"};

int ssmf_cap_kernels(const char *name)
{
	for (int l = 1; l <= 4; l++)
		if (level_names[l][0] && strcmp(name, level_names[l]) == 0) {
			g_level_cap = l;
			return 0;
		}
	return -1;
}

int ssmf_cpu_level(void)
{
	int l = detected_level();
	return l < g_level_cap ? l : g_level_cap;
}

/* The clones differ in FMA contraction and vector width, so float results are reproducible
 * bit for bit on one level and differ in rounding across levels. */
const char *ssmf_cpu_kernels(void)
{
	return level_names[detected_level()];
}
