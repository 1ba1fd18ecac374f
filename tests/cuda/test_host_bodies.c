/* test_host_bodies.c - every CUDA kernel body, run over its whole grid on the CPU (host
 * emulation, scrambled thread order, outputs poisoned with NaN), against the CPU reference:
 * sequence forward, backward (every activation gradient and parameter gradient), AdamW, and
 * step mode over interleaved flows. Three configs (default; d_state 8 with one layer; d_state
 * 32 with three layers, which take the generic register bound of the scan), fixed seeds plus
 * one fresh seed per run (printed; SSMF_TEST_SEED=N repeats it). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cuda/cx.h"

static int run(const char *what, const struct ssmf_config *cfg, int B, int T, uint64_t seed,
               int verbose)
{
	struct ssmf_cx_report rep = {0};
	char err[512];
	int rc = ssmf_cx_check(SSMF_CX_HOST, cfg, B, T, seed, 0, &rep, err, sizeof err);
	if (rc) {
		fprintf(stderr, "FAIL %s seed %llu: %s\n", what, (unsigned long long)seed, err);
		ssmf_cx_report_free(&rep);
		return 1;
	}
	const struct ssmf_cx_result *worst_f = NULL, *worst_b = NULL;
	for (int i = 0; i < rep.n; i++) {
		const struct ssmf_cx_result *r = &rep.r[i];
		if (verbose || !r->pass)
			printf("  %-40s %8ld  max_abs %.3e  ref_max %.3e  rel %.3e  tol %.0e %s\n",
			       r->name, r->count, r->max_abs, r->ref_max, r->rel, r->tol,
			       r->pass ? "ok" : "FAIL");
		const struct ssmf_cx_result **w = r->tol > 5e-5 ? &worst_b : &worst_f;
		if (!*w || !(r->rel <= (*w)->rel))
			*w = r;
	}
	printf("%s %s (seed %llu): %d tensors, %d failed; worst forward/step %s %.2e, worst "
	       "gradient %s %.2e\n",
	       rep.n_fail ? "FAIL" : "ok", what, (unsigned long long)seed, rep.n, rep.n_fail,
	       worst_f ? worst_f->name : "-", worst_f ? worst_f->rel : 0.0,
	       worst_b ? worst_b->name : "-", worst_b ? worst_b->rel : 0.0);
	if (rep.n_lost)
		printf("FAIL %s: %d comparisons not stored (out of memory)\n", what, rep.n_lost);
	int failed = rep.n_fail != 0;
	ssmf_cx_report_free(&rep);
	return failed;
}

int main(void)
{
	struct ssmf_config def, small, wide;
	ssmf_config_default(&def);
	small = (struct ssmf_config){16, 1, 8, 2, 8};
	wide = (struct ssmf_config){8, 3, 32, 2, 4};
	uint64_t fresh = (uint64_t)time(NULL);
	const char *env = getenv("SSMF_TEST_SEED");
	if (env)
		fresh = strtoull(env, NULL, 10);
	int fail = 0;
	fail += run("default config (D64 L2 N16 P16), B6 T24", &def, 6, 24, 1, 1);
	fail += run("default config, fresh seed", &def, 5, 19, fresh, 0);
	fail += run("D16 L1 N8 P8, B5 T17", &small, 5, 17, 2, 0);
	fail += run("D16 L1 N8 P8, fresh seed", &small, 7, 11, fresh + 1, 0);
	fail += run("D8 L3 N32 P4, B4 T9", &wide, 4, 9, 3, 0);
	fail += run("D8 L3 N32 P4, fresh seed", &wide, 3, 13, fresh + 2, 0);
	return fail ? 1 : 0;
}
