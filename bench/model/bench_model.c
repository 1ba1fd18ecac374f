/* bench_model.c - model throughput: forward (score) and forward+backward (train) packets/s
 * for the default config, beside the FLOP floor. Prints one line per measurement:
 *   ours <mode> threads=<n> pkts_per_s=<x> gflops=<y> best_gflops=<b> flops_per_pkt=<z>
 * (gflops over the whole run, best_gflops in the fastest batch)
 * and the measured per-core peak. Usage: ssm_bench_model [threads] [B] [T] [seconds] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "peak_flops.h"
#include "ssm/ssm.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Forward FLOPs per packet, counting multiply and add separately (matmuls 2*m*k, the scan's
 * 7 per state element: S update 5, readout 2). Training is counted as 3x forward (the
 * usual convention; the backward pass does 2x the matmul work, and recomputes the scan). */
static double fwd_flops(const struct ssmf_config *c)
{
	double D = c->d_model, N = c->d_state, DI = (double)c->expand * c->d_model;
	double H = DI / c->headdim, P = c->headdim;
	double DP = 2 * DI + 2 * N + 3 * H + N / 2;
	double layer = 2 * D * DP + 2 * DI * D + 7 * H * N * P + 6 * H * N /* rotary */ +
	               4 * D /* norm */ + 4 * DI /* gate */ + D /* residual */;
	return 2 * SSMF_N_FEATURES * D + c->n_layer * layer + 4 * D + 2 * D * SSMF_N_LOGITS;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	int B = argc > 2 ? atoi(argv[2]) : 64;
	int T = argc > 3 ? atoi(argv[3]) : 128;
	double secs = argc > 4 ? atof(argv[4]) : 2.0;
	char err[256];
	ssmf_set_threads(threads);
	struct ssmf_config cfg;
	ssmf_config_default(&cfg);
	struct ssmf_model *m = ssmf_model_new(&cfg, 1, err, sizeof err);
	struct ssmf_acts *a = m ? ssmf_acts_new(m, B, T, err, sizeof err) : NULL;
	if (!a) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* synthetic flows with real-looking fields; speed does not depend on the values */
	struct ssmf_record *rec = calloc((size_t)B * T, sizeof *rec);
	int *len = malloc(sizeof(int) * (size_t)B);
	unsigned s = 1;
	for (int b = 0; b < B; b++) {
		len[b] = T;
		for (int t = 0; t < T; t++) {
			struct ssmf_record *r = &rec[(size_t)b * T + t];
			s = s * 1103515245u + 12345u;
			r->ip_len = (uint16_t)(40 + (s >> 16) % 1460);
			r->gap_us = t ? (s >> 8) % 100000 : 0;
			r->ip_proto = 6;
			r->tcp_flags = 0x10;
			r->direction = (s >> 3) & 1;
			r->pkt_index = (uint16_t)t;
		}
	}
	struct ssmf_batch batch = {rec, len, NULL, B, T, 0, NULL};
	struct ssmf_outputs out;
	const char *isa;
	double peak = peak_flops_per_core(&isa); /* before and after: the higher counts */
	double ff = fwd_flops(&cfg);
	const char *modes[2] = {"score", "train"};
	for (int mode = 0; mode < 2; mode++) {
		long iters = 0;
		double t0 = now(), t, best = 1e30;
		do {
			double ti = now();
			if (mode == 0) { /* what score runs for a batch of flows from a dataset */
				ssmf_infer(m, a, &batch, &out, err, sizeof err);
			} else { /* what the trainer runs for a batch */
				ssmf_zero_grad(m);
				ssmf_forward_backward(m, a, &batch, &out, err, sizeof err);
			}
			iters++;
			t = now() - t0;
			if (now() - ti < best)
				best = now() - ti;
		} while (t < secs || iters < 3);
		/* the mean over the run, and the fastest single batch: the peak below is the best
		 * of short runs too, so best_gflops / peak compares like with like on a machine
		 * whose speed drifts */
		double pps = (double)iters * B * T / t, bpps = (double)B * T / best;
		double fl = ff * (mode ? 3 : 1);
		printf("ours %s threads=%d pkts_per_s=%.0f gflops=%.2f best_gflops=%.2f "
		       "flops_per_pkt=%.0f\n",
		       modes[mode], threads, pps, pps * fl * 1e-9, bpps * fl * 1e-9, fl);
	}
	double peak2 = peak_flops_per_core(&isa);
	if (peak2 > peak)
		peak = peak2;
	printf("peak per_core_gflops=%.2f isa=%s\n", peak * 1e-9, isa);
	free(rec);
	free(len);
	ssmf_acts_free(a);
	ssmf_model_free(m);
	return 0;
}
