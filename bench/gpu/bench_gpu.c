/* bench_gpu.c - packets/s of the model on a GPU: score in step mode (one packet of each of
 * --step-n flows per call, state on the device, one CUDA Graph launch per call, records in and
 * NLL + logits out over PCIe included) and train (sequence mode forward + backward + AdamW).
 *
 * usage: ssm_bench_gpu [--step-n N] [--steps S] [--B B] [--T T] [--train-steps S] [--tf32]
 *                      [--checkpoint FILE]
 * Exit codes: 0 ok, 1 usage, 5 a CUDA error, 6 no GPU or built without CUDA.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda/ssm_cuda.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static void packet(struct ssmf_record *r, uint32_t flow, int t)
{
	memset(r, 0, sizeof *r);
	r->flow_id = flow;
	r->gap_us = t ? rnd() % 100000 : 0;
	r->ip_len = (uint16_t)(40 + rnd() % 1461);
	r->payload_len = (uint16_t)(r->ip_len > 52 ? r->ip_len - 52 : 0);
	r->direction = (uint8_t)(rnd() & 1);
	r->pkt_index = (uint16_t)t;
	r->ttl = 64;
	r->ip_proto = flow % 3 ? 6 : 17;
	if (r->ip_proto == 6) {
		r->tcp_flags = (uint8_t)(0x10 | (rnd() & 0x8));
		r->tcp_window = (uint16_t)rnd();
	}
}

int main(int argc, char **argv)
{
	int step_n = 65536, steps = 50, B = 256, T = 128, train_steps = 20, tf32 = 0;
	const char *ckpt = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--tf32")) {
			tf32 = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "usage: ssm_bench_gpu [--step-n N] [--steps S] [--B B] "
			                "[--T T] [--train-steps S] [--tf32] [--checkpoint FILE]\n");
			return 1;
		}
		i++;
		if (!strcmp(a, "--step-n"))
			step_n = atoi(v);
		else if (!strcmp(a, "--steps"))
			steps = atoi(v);
		else if (!strcmp(a, "--B"))
			B = atoi(v);
		else if (!strcmp(a, "--T"))
			T = atoi(v);
		else if (!strcmp(a, "--train-steps"))
			train_steps = atoi(v);
		else if (!strcmp(a, "--checkpoint"))
			ckpt = v;
		else {
			fprintf(stderr, "ssm_bench_gpu: unknown option %s\n", a);
			return 1;
		}
	}
	char err[512];
	int ndev = ssmf_cuda_available(err, sizeof err);
	if (ndev < 0) {
		fprintf(stderr, "ssm_bench_gpu: no GPU benchmark: %s\n", err);
		return 6;
	}
	char name[256];
	ssmf_cuda_device_name(0, name, sizeof name);
	struct ssmf_config cfg;
	ssmf_config_default(&cfg);
	struct ssmf_model *m = ckpt ? ssmf_checkpoint_load(ckpt, err, sizeof err)
	                            : ssmf_model_new(&cfg, 1, err, sizeof err);
	if (!m) {
		fprintf(stderr, "ssm_bench_gpu: %s\n", err);
		return 1;
	}
	cfg = *ssmf_model_config(m);
	printf("device: %s\nmodel: d_model %d, n_layer %d, d_state %d, expand %d, headdim %d, "
	       "%zu parameters; GEMMs %s\n",
	       name, cfg.d_model, cfg.n_layer, cfg.d_state, cfg.expand, cfg.headdim,
	       ssmf_model_num_params(m), tf32 ? "TF32" : "FP32");
	int rc = 0;
	/* ---- score: step mode ---- */
	{
		struct ssmf_cuda_opts o = {0, 0, 0, step_n, step_n, tf32, 0};
		struct ssmf_cuda *c = NULL;
		struct ssmf_record *rec = malloc((size_t)step_n * sizeof *rec);
		int32_t *slot = malloc((size_t)step_n * sizeof *slot);
		float *nll = malloc((size_t)step_n * SSMF_N_COMP * sizeof(float));
		float *lg = malloc((size_t)step_n * SSMF_N_LOGITS * sizeof(float));
		if (!rec || !slot || !nll || !lg) {
			fprintf(stderr, "ssm_bench_gpu: out of memory\n");
			return 5;
		}
		if ((rc = ssmf_cuda_new(&c, m, &o, err, sizeof err))) {
			fprintf(stderr, "ssm_bench_gpu: %s\n", err);
			return rc == SSMF_CUDA_E_NODEV ? 6 : 5;
		}
		for (int i = 0; i < step_n; i++)
			slot[i] = i;
		double t0 = 0, tgen = 0;
		for (int s = 0; s < steps + 3 && !rc; s++) {
			if (s == 3)
				t0 = now();
			double g0 = now();
			for (int i = 0; i < step_n; i++)
				packet(&rec[i], (uint32_t)i, s);
			tgen += s >= 3 ? now() - g0 : 0;
			rc = ssmf_cuda_step(c, rec, slot, step_n, nll, lg, err, sizeof err);
		}
		double t = now() - t0 - tgen;
		if (rc) {
			fprintf(stderr, "ssm_bench_gpu: step: %s\n", err);
			return 5;
		}
		printf("score (step mode, %d flows x 1 packet per call, CUDA Graph, %d calls): "
		       "%.1f Mpackets/s, %.3f ms per call (arena %zu MiB)\n",
		       step_n, steps, (double)step_n * steps / t / 1e6, 1e3 * t / steps,
		       ssmf_cuda_arena_bytes(c) >> 20);
		ssmf_cuda_free(c);
		free(rec);
		free(slot);
		free(nll);
		free(lg);
	}
	/* ---- train: sequence mode ---- */
	{
		struct ssmf_cuda_opts o = {0, B, T, 0, 0, tf32, 0};
		struct ssmf_cuda *c = NULL;
		struct ssmf_record *rec = malloc((size_t)B * T * sizeof *rec);
		int *len = malloc((size_t)B * sizeof *len);
		if (!rec || !len)
			return 5;
		long pk = 0;
		for (int b = 0; b < B; b++) {
			len[b] = T / 4 + (int)(rnd() % (unsigned)(3 * T / 4 + 1));
			if (len[b] > T)
				len[b] = T;
			pk += len[b];
			for (int t = 0; t < T; t++)
				packet(&rec[(size_t)b * T + t], (uint32_t)b, t);
		}
		if ((rc = ssmf_cuda_new(&c, m, &o, err, sizeof err))) {
			fprintf(stderr, "ssm_bench_gpu: %s\n", err);
			return rc == SSMF_CUDA_E_NODEV ? 6 : 5;
		}
		struct ssmf_batch batch = {rec, len, NULL, B, T, 0, NULL};
		struct ssmf_outputs out;
		struct ssmf_cuda_adamw_hp hp = {1e-3, 0.9, 0.999, 1e-8, 0.01, 0, 1.0};
		double t0 = 0, norm = 0;
		for (int s = 0; s < train_steps + 2 && !rc; s++) {
			if (s == 2)
				t0 = now();
			hp.step = s + 1;
			if ((rc = ssmf_cuda_zero_grad(c, err, sizeof err)) ||
			    (rc = ssmf_cuda_forward(c, &batch, &out, err, sizeof err)) ||
			    (rc = ssmf_cuda_backward(c, err, sizeof err)) ||
			    (rc = ssmf_cuda_grad_norm(c, &norm, err, sizeof err)) ||
			    (rc = ssmf_cuda_adamw(c, &hp, err, sizeof err)))
				break;
		}
		double t = now() - t0;
		if (rc) {
			fprintf(stderr, "ssm_bench_gpu: train: %s\n", err);
			return 5;
		}
		printf(
		    "train (B %d x T %d, %ld packets per batch, forward + backward + AdamW, %d "
		    "steps): %.2f Mpackets/s, %.2f ms per step, last loss %.4f (arena %zu MiB)\n",
		    B, T, pk, train_steps, (double)pk * train_steps / t / 1e6,
		    1e3 * t / train_steps, out.loss, ssmf_cuda_arena_bytes(c) >> 20);
		ssmf_cuda_free(c);
		free(rec);
		free(len);
	}
	ssmf_model_free(m);
	return 0;
}
