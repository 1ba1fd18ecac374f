/* bench_forward.c - the model's forward alone (ssmf_infer, the bundled model) over every flow
 * of a dataset, batched as score batches them (sorted by length, up to 256 flows and 32k
 * positions a batch), records read into memory first: the floor under `ssmflow score` on the
 * same flows; each batch stops before an eighth of its rows is padding, as score's do. Then
 * the host level as score runs it (ssmf_hosts_score: each endpoint's sequence of flow events
 * under the host model, the activity and the host table) over the same flows, from their
 * first records.
 * Prints: forward threads=<n> flows=<f> packets=<p> seconds=<wall> cpu_seconds=<all threads>
 * pkts_per_s=<x> host_seconds=<wall> host_cpu_seconds=<all threads> (wall and CPU time of
 * the ssmf_infer calls alone, and of ssmf_hosts_score; the host figures 0 without a host
 * level)
 * Usage: bench_score_forward DATASET.h5 [THREADS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sort_index.h"
#include "datasets/reader.h"
#include "score/hosts.h"
#include "score/model_levels.h"
#include "ssm/ssm.h"

#define ROWS      256
#define POSITIONS (1 << 15)

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char err[1024];
	if (argc < 2) {
		fprintf(stderr, "usage: bench_score_forward DATASET.h5 [THREADS]\n");
		return 1;
	}
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	ssmf_set_threads(threads);
	struct ssmf_dataset *ds = ssmf_dataset_open(argv[1], err, sizeof err);
	struct ssmf_model *m = NULL, *hm = NULL;
	struct ssmf_host_profile profile;
	struct ssmf_evidence evidence;
	if (!ds ||
	    ssmf_model_levels_load(NULL, &m, &hm, &profile, &evidence, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	const struct ssmf_flow_summary *flows = ssmf_dataset_flows(ds);
	size_t nf = (size_t)ssmf_dataset_nflows(ds), np = (size_t)ssmf_dataset_npackets(ds);
	struct ssmf_record *all = malloc((np ? np : 1) * sizeof *all);
	size_t *order = malloc((nf ? nf : 1) * sizeof *order);
	uint64_t *keys = malloc((nf ? nf : 1) * sizeof *keys);
	if (!all || !order || !keys ||
	    ssmf_dataset_read_packets(ds, 0, np, all, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", all && order && keys ? err : "out of memory");
		return 1;
	}
	int maxT = 1;
	for (size_t i = 0; i < nf; i++) {
		order[i] = i;
		keys[i] = flows[i].packet_count;
		if ((int)flows[i].packet_count > maxT)
			maxT = (int)flows[i].packet_count;
	}
	if (ssmf_sort_index(order, keys, nf) != 0) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	int rowsB = POSITIONS / maxT > 0 ? POSITIONS / maxT : 1;
	int maxB = ROWS, maxTa = maxT;
	struct ssmf_acts *shortA = ssmf_acts_new_infer(m, maxB, POSITIONS / maxB, err, sizeof err);
	struct ssmf_acts *longA = ssmf_acts_new_infer(m, rowsB, maxTa, err, sizeof err);
	struct ssmf_record *rec = malloc((size_t)ROWS * (size_t)maxT * sizeof *rec);
	int len[ROWS];
	if (!shortA || !longA || !rec) {
		fprintf(stderr, "%s\n", rec ? err : "out of memory");
		return 1;
	}
	double t_model = 0, t_cpu = 0;
	uint64_t packets = 0;
	for (size_t i = 0; i < nf;) {
		int T = (int)flows[order[i]].packet_count, B = 0;
		int shortT = POSITIONS / ROWS;
		size_t used = 0;
		while (i + (size_t)B < nf) {
			int t = (int)flows[order[i + (size_t)B]].packet_count;
			int cap = t <= shortT ? ROWS : rowsB;
			size_t pos = (size_t)(B + 1) * (size_t)t;
			if (B + 1 > cap || (t > 16 && pos - (used + (size_t)t) > pos / 8))
				break;
			T = t;
			used += (size_t)t;
			B++;
		}
		if (T < 1)
			T = 1;
		for (int b = 0; b < B; b++) {
			const struct ssmf_flow_summary *f = &flows[order[i + (size_t)b]];
			len[b] = (int)f->packet_count;
			memcpy(&rec[(size_t)b * T], &all[f->packet_offset],
			       f->packet_count * sizeof *rec);
			memset(&rec[(size_t)b * T + f->packet_count], 0,
			       (size_t)(T - len[b]) * sizeof *rec);
			packets += f->packet_count;
		}
		struct ssmf_batch batch = {.rec = rec, .len = len, .B = B, .T = T};
		struct ssmf_outputs out;
		double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		if (ssmf_infer(m, T <= shortT ? shortA : longA, &batch, &out, err, sizeof err) !=
		    0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		t_model += clock_s(CLOCK_MONOTONIC) - t0;
		t_cpu += clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		i += (size_t)B;
	}
	/* the host level, with score's default weights, over flows as the scorer leaves them */
	double t_host = 0, c_host = 0;
	if (hm) {
		struct ssmf_flow_score *r = calloc(nf ? nf : 1, sizeof *r);
		struct ssmf_host_results hosts;
		if (!r) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		for (size_t i = 0; i < nf; i++) {
			r[i].s = flows[i];
			r[i].packets_scored = flows[i].packet_count;
			if (flows[i].packet_count)
				r[i].first = all[flows[i].packet_offset];
		}
		const struct ssmf_host_level hl = {.model = hm,
		                                   .profile = profile.events ? &profile : NULL,
		                                   .weight = SSMF_HOST_WEIGHT_DEFAULT,
		                                   .activity_weight = SSMF_ACTIVITY_WEIGHT_DEFAULT,
		                                   .evidence = evidence.flows ? &evidence : NULL,
		                                   .evidence_weight = SSMF_EVIDENCE_WEIGHT_DEFAULT,
		                                   .peak_weight = SSMF_PEAK_WEIGHT_DEFAULT};
		double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		if (ssmf_hosts_score(&hl, r, nf, &hosts, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		t_host = clock_s(CLOCK_MONOTONIC) - t0;
		c_host = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		ssmf_host_results_free(&hosts);
		free(r);
	}
	printf("forward threads=%d flows=%zu packets=%llu seconds=%.3f cpu_seconds=%.3f "
	       "pkts_per_s=%.0f host_seconds=%.3f host_cpu_seconds=%.3f\n",
	       threads, nf, (unsigned long long)packets, t_model, t_cpu, (double)packets / t_model,
	       t_host, c_host);
	ssmf_acts_free(shortA);
	ssmf_acts_free(longA);
	ssmf_model_free(m);
	ssmf_model_free(hm);
	ssmf_dataset_close(ds);
	free(rec), free(order), free(keys), free(all);
	return 0;
}
