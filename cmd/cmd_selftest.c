/* ssmflow selftest: the model's kernels against the CPU reference. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/options.h"
#include "cuda/cx.h"

#define EXIT_MISMATCH SSMF_EXIT_INTERNAL /* 5: an error above its tolerance */
#define EXIT_NOCUDA   6                  /* CUDA not built in, or no usable GPU */

static const char usage[] =
    "usage: ssmflow selftest [--device cpu|cuda] [--seed N] [--tf32] [--verbose]\n"
    "\n"
    "Runs every kernel of the GPU port against the CPU reference model (ssm/) on random\n"
    "models and flows: sequence forward, backward (every gradient), AdamW and step mode.\n"
    "\n";
static const char epilogue[] =
    "\n"
    "Prints, per tensor, the largest |ours - reference| relative to the largest |reference|\n"
    "and its tolerance (docs/cuda.md).\n"
    "Exit codes: 0 all within tolerance, 1 usage, 5 an error above its tolerance,\n"
    "6 CUDA unavailable (built without CUDA, or no usable GPU).\n";

struct selftest_cli {
	int cuda, tf32, verbose;
	uint64_t seed;
};

static const struct ssmf_opt_choice devices[] = {{"cpu", 0, 0}, {"cuda", 1, 0}, {NULL, 0, 0}};

static const struct ssmf_opt selftest_opts[] = {
    {.name = "device",
     .arg = "cpu|cuda",
     .type = SSMF_OPT_CHOICE,
     .offset = offsetof(struct selftest_cli, cuda),
     .choices = devices,
     .help = "cpu: the kernels' per-thread bodies run on the CPU over the whole grid (checks "
             "this build without a GPU); cuda: the kernels run on the GPU (device 0)"},
    {.name = "seed",
     .arg = "N",
     .type = SSMF_OPT_U64,
     .offset = offsetof(struct selftest_cli, seed),
     .help = "random seed"},
    {.name = "tf32",
     .type = SSMF_OPT_FLAG,
     .offset = offsetof(struct selftest_cli, tf32),
     .help = "GPU projections in TF32 (judged with the TF32 tolerances)"},
    {.name = "verbose",
     .type = SSMF_OPT_FLAG,
     .offset = offsetof(struct selftest_cli, verbose),
     .help = "every tensor, not only the largest errors"},
    {.name = "help", .short_name = 'h', .type = SSMF_OPT_FLAG, .help = "this help"},
    SSMF_OPT_END,
};

static const struct ssmf_command_opts selftest_cmd = {"selftest", usage, epilogue, selftest_opts};

static int report(const char *what, const struct ssmf_cx_report *rep, int verbose)
{
	int worst[3] = {-1, -1, -1}; /* three largest relative errors */
	for (int i = 0; i < rep->n; i++) {
		const struct ssmf_cx_result *r = &rep->r[i];
		if (verbose || !r->pass)
			printf("  %-40s rel %.2e (tol %.0e, max_abs %.2e, n %ld)%s\n", r->name,
			       r->rel, r->tol, r->max_abs, r->count, r->pass ? "" : "  FAIL");
		double e = r->pass ? r->rel / r->tol : 1e300;
		for (int k = 0; k < 3; k++) {
			double w = worst[k] < 0 ? -1
			                        : (rep->r[worst[k]].pass
			                               ? rep->r[worst[k]].rel / rep->r[worst[k]].tol
			                               : 1e300);
			if (e > w) {
				for (int j = 2; j > k; j--)
					worst[j] = worst[j - 1];
				worst[k] = i;
				break;
			}
		}
	}
	printf("%-44s %3d tensors, %d above tolerance; largest:", what, rep->n, rep->n_fail);
	for (int k = 0; k < 3 && worst[k] >= 0; k++)
		printf(" %s %.1e/%.0e", rep->r[worst[k]].name, rep->r[worst[k]].rel,
		       rep->r[worst[k]].tol);
	printf("\n");
	if (rep->n_lost)
		printf("  %d comparisons not stored (out of memory): judged failed\n", rep->n_lost);
	return rep->n_fail;
}

int cmd_selftest(int argc, char **argv)
{
	struct selftest_cli cli = {.seed = 1};
	int first = 0;
	int prc = ssmf_opts_parse(&selftest_cmd, &cli, argc, argv, &first, NULL);
	if (prc)
		return prc < 0 ? SSMF_EXIT_OK : prc;
	if (first < argc)
		return ssmf_usage_error("selftest", "unexpected argument '%s'", argv[first]);
	int cuda = cli.cuda, tf32 = cli.tf32, verbose = cli.verbose;
	uint64_t seed = cli.seed;
	char err[512];
	if (cuda) {
		int n = ssmf_cuda_available(err, sizeof err);
		if (n < 0) {
			ssmf_error("selftest --device cuda: %s", err);
			return EXIT_NOCUDA;
		}
		char name[256];
		ssmf_cuda_device_name(0, name, sizeof name);
		printf("device 0: %s\n", name);
	} else {
		printf("host emulation: the GPU kernels' per-thread bodies on the CPU\n");
	}
	struct ssmf_config def, small, wide;
	ssmf_config_default(&def);
	small = (struct ssmf_config){16, 1, 8, 2, 8};
	wide = (struct ssmf_config){8, 3, 32, 2, 4};
	struct {
		const char *what;
		const struct ssmf_config *cfg;
		int B, T;
	} runs[] = {{"default config (D64 L2 N16 P16), B8 T48", &def, 8, 48},
	            {"D16 L1 N8 P8, B5 T17", &small, 5, 17},
	            {"D8 L3 N32 P4, B4 T9", &wide, 4, 9}};
	int fails = 0;
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		struct ssmf_cx_report rep = {0};
		int rc = ssmf_cx_check(cuda ? SSMF_CX_DEVICE : SSMF_CX_HOST, runs[i].cfg, runs[i].B,
		                       runs[i].T, seed + i, tf32, &rep, err, sizeof err);
		if (rc) {
			ssmf_cx_report_free(&rep);
			ssmf_error("selftest: %s: %s", runs[i].what, err);
			return rc == SSMF_CUDA_E_NOBUILD || rc == SSMF_CUDA_E_NODEV
			           ? EXIT_NOCUDA
			           : SSMF_EXIT_INTERNAL;
		}
		fails += report(runs[i].what, &rep, verbose);
		ssmf_cx_report_free(&rep);
	}
	printf("%s\n", fails ? "selftest: FAILED" : "selftest: all within tolerance");
	return fails ? EXIT_MISMATCH : SSMF_EXIT_OK;
}
