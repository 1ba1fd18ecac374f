/* test_host_equiv.c - the host level's numbers agree however they are run: sequence mode
 * (ssmf_infer), step mode with state per host (ssmf_step), and the CUDA kernels' code in
 * the host emulation (sequence and step), on the host sequences of a real dataset, for a
 * freshly initialised model and for the bundled model's host level when it has one.
 *
 *     test_host_equiv DATASET.h5
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/devices.h"
#include "score/model_levels.h"
#include "train/hostset.h"
#include "unit/check.h"

#define MAXT 256 /* rows per host piece (train_hostset_load cuts longer sequences) */

/* |a - b| relative to the larger magnitude, with an absolute floor for values near 0. */
static double rel(double a, double b)
{
	double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
	return fabs(a - b) / (m > 1 ? m : 1);
}

static void compare(const struct ssmf_model *m, const struct train_flowset *fs, const char *what)
{
	char err[512];
	size_t nf = fs->n;
	int B = 64;
	struct ssmf_acts *a = ssmf_acts_new_infer(m, B, MAXT, err, sizeof err);
	CHECKF(a, "%s: acts: %s", what, err);
	void *emu = NULL;
	struct ssmf_cuda_opts co = {0, B, MAXT, B, B, 0, 0};
	CHECKF(ssmf_cuda_api_emulated.create(&emu, m, &co, err, sizeof err) == 0, "%s: emu: %s",
	       what, err);
	size_t sf = ssmf_step_state_size(m);
	ssmf_real *state = malloc((size_t)B * sf * sizeof *state), *sp[64];
	struct ssmf_step_ws *ws = ssmf_step_ws_new(m, B, err, sizeof err);
	struct ssmf_record *rows = calloc((size_t)B * MAXT, sizeof *rows), step_in[64];
	ssmf_real step_nll[64 * SSMF_N_COMP], emu_nll[64 * SSMF_N_COMP];
	int len[64];
	double worst_step = 0, worst_emu = 0, worst_emu_step = 0;
	long compared = 0;
	for (size_t i = 0; a && emu && ws && i < nf; i += (size_t)B) {
		int nb = nf - i < (size_t)B ? (int)(nf - i) : B, T = 0;
		for (int b = 0; b < nb; b++) {
			len[b] = fs->flows[i + (size_t)b].len;
			T = len[b] > T ? len[b] : T;
		}
		memset(rows, 0, (size_t)B * MAXT * sizeof *rows);
		for (int b = 0; b < nb; b++)
			memcpy(rows + (size_t)b * (size_t)T,
			       fs->rec + fs->flows[i + (size_t)b].rec_off,
			       (size_t)len[b] * sizeof *rows);
		struct ssmf_batch batch = {.rec = rows, .len = len, .B = nb, .T = T};
		struct ssmf_outputs seq, gpu;
		CHECKF(ssmf_infer(m, a, &batch, &seq, err, sizeof err) == 0, "infer: %s", err);
		ssmf_real *ref = malloc((size_t)nb * (size_t)T * SSMF_N_COMP * sizeof *ref);
		memcpy(ref, seq.nll, (size_t)nb * (size_t)T * SSMF_N_COMP * sizeof *ref);
		CHECKF(ssmf_cuda_api_emulated.forward(emu, &batch, &gpu, err, sizeof err) == 0,
		       "emu forward: %s", err);
		for (size_t k = 0; k < (size_t)nb * (size_t)T * SSMF_N_COMP; k++) {
			double d = rel(ref[k], gpu.nll[k]);
			worst_emu = d > worst_emu ? d : worst_emu;
		}
		/* step mode: every host of the batch one row per call */
		int32_t slot[64];
		for (int b = 0; b < nb; b++) {
			ssmf_step_state_reset(m, state + (size_t)b * sf);
			sp[b] = state + (size_t)b * sf;
			slot[b] = b;
		}
		CHECKF(ssmf_cuda_api_emulated.step_reset(emu, slot, nb, err, sizeof err) == 0,
		       "reset: %s", err);
		for (int t = 0; t < T; t++) {
			int n = 0;
			ssmf_real *spn[64];
			int32_t sl[64], who[64];
			for (int b = 0; b < nb; b++)
				if (t < len[b]) {
					step_in[n] = rows[(size_t)b * (size_t)T + (size_t)t];
					spn[n] = sp[b];
					sl[n] = slot[b];
					who[n++] = b;
				}
			CHECKF(ssmf_step(m, ws, spn, step_in, n, step_nll, NULL, err, sizeof err) ==
			           0,
			       "step: %s", err);
			CHECKF(ssmf_cuda_api_emulated.step(emu, step_in, sl, n, emu_nll, err,
			                                   sizeof err) == 0,
			       "emu step: %s", err);
			for (int k = 0; k < n; k++)
				for (int c = 0; c < SSMF_N_COMP; c++) {
					double r = ref[((size_t)who[k] * (size_t)T + (size_t)t) *
					                   SSMF_N_COMP +
					               (size_t)c];
					double d1 = rel(r, step_nll[k * SSMF_N_COMP + c]);
					double d2 = rel(r, emu_nll[k * SSMF_N_COMP + c]);
					worst_step = d1 > worst_step ? d1 : worst_step;
					worst_emu_step = d2 > worst_emu_step ? d2 : worst_emu_step;
					compared++;
				}
		}
		free(ref);
	}
	printf("%s: %zu host pieces, %ld event NLLs: step vs sequence %.2e, emulated CUDA sequence "
	       "%.2e, emulated CUDA step %.2e\n",
	       what, nf, compared, worst_step, worst_emu, worst_emu_step);
	CHECKF(compared > 1000, "%s: only %ld values compared", what, compared);
	CHECKF(worst_step <= 1e-5, "%s: step vs sequence %.3g", what, worst_step);
	CHECKF(worst_emu <= 1e-5, "%s: emulated CUDA sequence vs CPU %.3g", what, worst_emu);
	CHECKF(worst_emu_step <= 1e-5, "%s: emulated CUDA step vs CPU %.3g", what, worst_emu_step);
	free(state);
	free(rows);
	ssmf_step_ws_free(ws);
	ssmf_acts_free(a);
	if (emu)
		ssmf_cuda_api_emulated.destroy(emu);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_host_equiv DATASET.h5\n");
		return 2;
	}
	char err[1024];
	struct train_flowset fs;
	const char *paths[1] = {argv[1]};
	if (train_hostset_load(&fs, paths, 1, MAXT, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct ssmf_config cfg;
	ssmf_config_default(&cfg);
	struct ssmf_model *fresh = ssmf_model_new(&cfg, 7, err, sizeof err);
	CHECKF(fresh, "model: %s", err);
	if (fresh)
		compare(fresh, &fs, "initialised model");
	struct ssmf_model *pkt = NULL, *host = NULL;
	CHECKF(ssmf_model_levels_load(NULL, &pkt, &host, NULL, NULL, err, sizeof err) == 0,
	       "bundled: %s", err);
	if (host)
		compare(host, &fs, "bundled host level");
	else
		printf("the bundled model has no host level\n");
	ssmf_model_free(fresh);
	ssmf_model_free(pkt);
	ssmf_model_free(host);
	train_flowset_free(&fs);
	return check_report("test_host_equiv");
}
