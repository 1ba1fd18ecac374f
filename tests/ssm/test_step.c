/* test_step.c - step mode equals sequence mode on real flows.
 *
 * For each capture: the crude reader groups packets by 5-tuple flow. Sequence mode scores
 * whole flows as one padded batch; step mode replays the packets in capture order (flows
 * interleaved), one packet of many flows per call; sequence mode again in chunks of a few
 * packets, each flow's state carried from chunk to chunk. Every packet's surprise components
 * (and step mode's predictions) must agree within 1e-5 relative. Usage: ssm_test_step PCAP...
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pcap_records.h"
#include "ssm/ssm.h"
#include "testutil.h"

#define TMAX  256
#define CHUNK 7

static int run(const char *path, struct ssmf_model *m)
{
	char err[512];
	struct ssmf_record *all;
	int nf;
	long n = pcap_records_read(path, &all, &nf, err, sizeof err);
	if (n < 0) {
		printf("%s\n", err);
		return 1;
	}
	/* sequence mode: flows as rows, first TMAX packets each */
	int *len = calloc((size_t)nf, sizeof *len);
	long *row_of = malloc(sizeof(long) * (size_t)n);
	struct ssmf_record *batch = calloc((size_t)nf * TMAX, sizeof *batch);
	int used = 0;
	for (long i = 0; i < n; i++) {
		int f = (int)all[i].flow_id;
		row_of[i] = -1;
		if (len[f] < TMAX) {
			row_of[i] = (long)f * TMAX + len[f];
			batch[row_of[i]] = all[i];
			len[f]++;
			used++;
		}
	}
	struct ssmf_acts *a = ssmf_acts_new(m, nf, TMAX, err, sizeof err);
	struct ssmf_batch bt = {batch, len, NULL, nf, TMAX, 0, NULL};
	struct ssmf_outputs out;
	if (!a || ssmf_forward(m, a, &bt, &out, err, sizeof err) < 0) {
		printf("%s: %s\n", path, err);
		return 1;
	}
	/* step mode: capture order, a call holds at most one packet per flow */
	size_t ss = ssmf_step_state_size(m);
	ssmf_real *states = malloc(sizeof(ssmf_real) * ss * (size_t)nf);
	for (int f = 0; f < nf; f++)
		ssmf_step_state_reset(m, states + (size_t)f * ss);
	struct ssmf_step_ws *ws = ssmf_step_ws_new(m, 64, err, sizeof err);
	ssmf_real **sp = malloc(sizeof(ssmf_real *) * 64);
	struct ssmf_record grp[64];
	long idx[64];
	ssmf_real nll[64 * SSMF_N_COMP], lg[64 * SSMF_N_LOGITS];
	char *in_grp = calloc((size_t)nf, 1);
	double max_rel_nll = 0, max_rel_lg = 0;
	long checked = 0, calls = 0;
	for (long i = 0; i < n;) {
		int g = 0;
		while (i < n && g < 64 && (row_of[i] < 0 || !in_grp[all[i].flow_id])) {
			if (row_of[i] >= 0) {
				in_grp[all[i].flow_id] = 1;
				grp[g] = all[i];
				idx[g] = row_of[i];
				sp[g] = states + (size_t)all[i].flow_id * ss;
				g++;
			}
			i++;
		}
		if (ssmf_step(m, ws, sp, grp, g, nll, lg, err, sizeof err) < 0) {
			printf("%s: %s\n", path, err);
			return 1;
		}
		calls++;
		for (int j = 0; j < g; j++) {
			in_grp[grp[j].flow_id] = 0;
			const ssmf_real *sn = out.nll + (size_t)idx[j] * SSMF_N_COMP;
			const ssmf_real *sl = out.logits + (size_t)idx[j] * SSMF_N_LOGITS;
			for (int c = 0; c < SSMF_N_COMP; c++) {
				double r =
				    fabs(nll[j * SSMF_N_COMP + c] - sn[c]) / fmax(fabs(sn[c]), 1.0);
				max_rel_nll = fmax(max_rel_nll, r);
			}
			for (int c = 0; c < SSMF_N_LOGITS; c++) {
				double r = fabs(lg[j * SSMF_N_LOGITS + c] - sl[c]) /
				           fmax(fabs(sl[c]), 1.0);
				max_rel_lg = fmax(max_rel_lg, r);
			}
			checked++;
		}
	}
	/* sequence mode in chunks of CHUNK packets, each flow's state carried from one into
	 * the next (ssmf_batch.state): the whole flows' numbers */
	double max_rel_chunk = 0;
	int *clen = calloc((size_t)nf, sizeof *clen);
	struct ssmf_record *cbatch = calloc((size_t)nf * CHUNK, sizeof *cbatch);
	struct ssmf_acts *ca = ssmf_acts_new_infer(m, nf, CHUNK, err, sizeof err);
	for (int f = 0; f < nf; f++)
		ssmf_step_state_reset(m, states + (size_t)f * ss);
	ssmf_real **cst = malloc(sizeof(ssmf_real *) * (size_t)nf);
	for (int f = 0; f < nf; f++)
		cst[f] = states + (size_t)f * ss;
	long chunked = 0;
	for (int t0 = 0; ca && t0 < TMAX; t0 += CHUNK) {
		for (int f = 0; f < nf; f++) {
			int k = len[f] - t0;
			clen[f] = k < 0 ? 0 : k > CHUNK ? CHUNK : k;
			for (int t = 0; t < clen[f]; t++)
				cbatch[(size_t)f * CHUNK + t] = batch[(size_t)f * TMAX + t0 + t];
		}
		struct ssmf_batch cb = {cbatch, clen, NULL, nf, CHUNK, 0, cst};
		struct ssmf_outputs co;
		if (ssmf_infer(m, ca, &cb, &co, err, sizeof err) < 0) {
			printf("%s: chunked: %s\n", path, err);
			return 1;
		}
		for (int f = 0; f < nf; f++)
			for (int t = 0; t < clen[f]; t++, chunked++)
				for (int c = 0; c < SSMF_N_COMP; c++) {
					ssmf_real x =
					    co.nll[((size_t)f * CHUNK + t) * SSMF_N_COMP + c];
					ssmf_real y =
					    out.nll[((size_t)f * TMAX + t0 + t) * SSMF_N_COMP + c];
					max_rel_chunk =
					    fmax(max_rel_chunk, fabs(x - y) / fmax(fabs(y), 1.0));
				}
	}
	int bad = !(max_rel_nll <= 1e-5 && max_rel_lg <= 1e-5 && max_rel_chunk <= 1e-5) ||
	          checked < 2 || chunked != used || !ca;
	printf("%-28s %6ld packets %4d flows %5ld step calls: max rel diff nll %.2e logits %.2e; "
	       "chunks of %d: nll %.2e %s\n",
	       strrchr(path, '/') ? strrchr(path, '/') + 1 : path, checked, nf, calls, max_rel_nll,
	       max_rel_lg, CHUNK, max_rel_chunk, bad ? "FAIL" : "ok");
	ssmf_acts_free(ca);
	free(cst), free(cbatch), free(clen);
	free(in_grp), free(sp), free(states), free(batch), free(row_of), free(len), free(all);
	ssmf_step_ws_free(ws);
	ssmf_acts_free(a);
	return bad;
}

int main(int argc, char **argv)
{
	char err[256];
	struct ssmf_config cfg;
	ssmf_config_default(&cfg);
	struct ssmf_model *m = ssmf_model_new(&cfg, 42, err, sizeof err);
	if (!m) {
		printf("%s\n", err);
		return 1;
	}
	/* generic weights, larger than init, so the states carry real signal */
	ssmf_real *p = ssmf_model_params(m);
	for (size_t i = 0; i < ssmf_model_num_params(m); i++)
		p[i] += (ssmf_real)(0.1 * (2 * tu_unif() - 1));
	int fail = 0;
	for (int i = 1; i < argc; i++)
		fail |= run(argv[i], m);
	ssmf_model_free(m);
	printf(fail ? "step=sequence: FAILED\n" : "step=sequence: all passed\n");
	return fail;
}
