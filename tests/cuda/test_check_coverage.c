/* test_check_coverage.c - the kernel check (cuda/check.c) judges every comparison it makes,
 * however deep the model. A ten-layer model makes more comparisons than an early fixed-size
 * result list held (160); the model's own tensor table (ssm/params.c) is the oracle for
 * which parameter gradients there are, and the per-layer activations are named by layer. A
 * comparison perturbed on purpose (one past the old limit, and the last one) must fail the
 * check, and only that one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cx.h"
#include "ssm/internal.h"

static const struct ssmf_cx_result *find(const struct ssmf_cx_report *rep, const char *name)
{
	for (int i = 0; i < rep->n; i++)
		if (strcmp(rep->r[i].name, name) == 0)
			return &rep->r[i];
	return NULL;
}

/* Every activation of every layer, every parameter gradient and the optimizer and step
 * comparisons are in the report. */
static int all_present(const struct ssmf_cx_report *rep, const struct ssmf_config *cfg)
{
	char err[256];
	struct ssmf_model *m = ssmf_model_new(cfg, 1, err, sizeof err);
	if (!m) {
		fprintf(stderr, "FAIL model: %s\n", err);
		return 0;
	}
	int missing = 0;
	char name[96];
	for (int i = 0; i < m->n_tensors; i++) {
		snprintf(name, sizeof name, "grad.%s", m->info[i].name);
		if (!find(rep, name))
			fprintf(stderr, "FAIL %s was not judged\n", name), missing++;
	}
	for (int l = 0; l < cfg->n_layer; l++) {
		snprintf(name, sizeof name, "fwd.yg.%d", l);
		if (!find(rep, name))
			fprintf(stderr, "FAIL %s was not judged\n", name), missing++;
	}
	static const char *const tail[] = {"bwd.d_th_h", "grad_norm", "adamw.params",
	                                   "step.nll+logits", "step.state"};
	for (size_t i = 0; i < sizeof tail / sizeof *tail; i++)
		if (!find(rep, tail[i]))
			fprintf(stderr, "FAIL %s was not judged\n", tail[i]), missing++;
	printf("%d layers, %d parameter tensors: %d comparisons, %d missing\n", cfg->n_layer,
	       m->n_tensors, rep->n, missing);
	ssmf_model_free(m);
	return missing == 0;
}

/* The check with result `at` perturbed: it, and only it, fails. */
static int perturbed_fails(const struct ssmf_config *cfg, int B, int T, uint64_t seed, int at,
                           int n_want)
{
	char err[512];
	struct ssmf_cx_report rep = {.perturb_at = at + 1};
	int rc = ssmf_cx_check(SSMF_CX_HOST, cfg, B, T, seed, 0, &rep, err, sizeof err);
	int ok =
	    rc == 0 && rep.n == n_want && rep.n_fail == 1 && rep.n_lost == 0 && !rep.r[at].pass;
	printf("comparison %d (%s) perturbed: %d of %d failed\n", at, rc ? "-" : rep.r[at].name,
	       rep.n_fail, rep.n);
	if (!ok)
		fprintf(stderr, "FAIL the perturbed comparison %d did not fail alone (rc %d)\n", at,
		        rc);
	ssmf_cx_report_free(&rep);
	return ok;
}

int main(void)
{
	const struct ssmf_config deep = {8, 10, 8, 2, 4};
	const int B = 3, T = 5;
	const uint64_t seed = 4;
	const int old_limit = 160; /* the fixed-size list this test was written against */
	char err[512];
	struct ssmf_cx_report rep = {0};
	int rc = ssmf_cx_check(SSMF_CX_HOST, &deep, B, T, seed, 0, &rep, err, sizeof err);
	if (rc) {
		fprintf(stderr, "FAIL check: %s\n", err);
		ssmf_cx_report_free(&rep);
		return 1;
	}
	int ok = all_present(&rep, &deep);
	if (rep.n_fail || rep.n_lost) {
		fprintf(stderr, "FAIL unperturbed run: %d above tolerance, %d not stored\n",
		        rep.n_fail, rep.n_lost);
		ok = 0;
	}
	if (rep.n <= old_limit) {
		fprintf(stderr, "FAIL %d comparisons: expected more than %d at this depth\n", rep.n,
		        old_limit);
		ok = 0;
	}
	int n = rep.n;
	ssmf_cx_report_free(&rep);
	if (ok)
		ok = perturbed_fails(&deep, B, T, seed, old_limit, n) &&
		     perturbed_fails(&deep, B, T, seed, n - 1, n);
	return ok ? 0 : 1;
}
