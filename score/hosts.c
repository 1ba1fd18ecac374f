/* hosts.c - the host level of scoring (hosts.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/host_events.h"
#include "score/hosts.h"

const char *const ssmf_host_comp_names[SSMF_N_COMP] = {"role", "size", "interval", "flags"};
const char *const ssmf_activity_reasons[SSMF_PROFILE_N] = {
    "activity:rate", "activity:repeats", "activity:new_peers", "activity:returns"};

struct pass {
	struct ssmf_host_sequences seq;
	size_t nh;                  /* seq.n_hosts */
	size_t *start;              /* seq.start */
	struct ssmf_host_event *ev; /* seq.ev */
	double *surprise;           /* (events) summed NLL */
	float *comp;                /* (events, SSMF_N_COMP) */
	double *activity;           /* (events) activity surprise, 0 without a profile */
	double *act_comp;           /* (events, SSMF_PROFILE_N) */
};

/* Every host's events, from the flows' keys and first packets (each source its own
 * address space). */
static int build(struct pass *p, const struct ssmf_flow_score *r, size_t n)
{
	struct ssmf_record *rec = malloc((n ? n : 1) * sizeof *rec);
	struct ssmf_host_flow *f = malloc((n ? n : 1) * sizeof *f);
	int rc = -1;
	if (!rec || !f)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct ssmf_flow_summary *s = &r[i].s;
		rec[i] = r[i].first; /* zeros when no packet was scored */
		rec[i].ts_ns = s->first_ts_ns;
		rec[i].ip_proto = s->protocol;
		f[i] = (struct ssmf_host_flow){.first = &rec[i],
		                               .src_addr = s->src_addr,
		                               .dst_addr = s->dst_addr,
		                               .ip_version = s->ip_version,
		                               .src_port = s->src_port,
		                               .dst_port = s->dst_port,
		                               .domain = r[i].source,
		                               .flow_id = s->flow_id};
	}
	if (ssmf_host_sequences_build(&p->seq, f, n) < 0)
		goto out;
	p->nh = p->seq.n_hosts;
	p->start = p->seq.start;
	p->ev = p->seq.ev;
	size_t ne = p->start[p->nh];
	p->surprise = calloc(ne ? ne : 1, sizeof *p->surprise);
	p->comp = calloc((ne ? ne : 1) * SSMF_N_COMP, sizeof *p->comp);
	p->activity = calloc(ne ? ne : 1, sizeof *p->activity);
	p->act_comp = calloc((ne ? ne : 1) * SSMF_PROFILE_N, sizeof *p->act_comp);
	rc = p->surprise && p->comp && p->activity && p->act_comp ? 0 : -1;
out:
	free(rec);
	free(f);
	return rc;
}

/* Lowered row t of host h's sequence: the start row, then its events. */
static void lower_row(const struct pass *p, size_t h, size_t t, struct ssmf_record *row)
{
	const struct ssmf_host_event *ev = p->ev + p->start[h];
	if (t == 0)
		ssmf_host_lower_start((uint32_t)h, ev[0].ts_ns, row);
	else
		ssmf_host_lower_event(&ev[t - 1], (uint32_t)t, row);
}

/* The surprise of host h's event e, from the NLL of its row. */
static void take(struct pass *p, size_t h, size_t e, const ssmf_real *nll)
{
	size_t at = p->start[h] + e;
	double sum = 0;
	for (int c = 0; c < SSMF_N_COMP; c++) {
		p->comp[at * SSMF_N_COMP + (size_t)c] = (float)nll[c];
		sum += nll[c];
	}
	p->surprise[at] = sum;
}

static int cmp_u64(const void *a, const void *b);

/* Rows of one sequence-mode batch of hosts (B x T). */
enum { ROWS = 1 << 15 };

/* On the GPU, batches run on an engine opened for their shape: hosts of up to gpu_T[k] rows,
 * ROWS / gpu_T[k] of them (the engine's buffers are made once, for its largest batch). */
static const int gpu_T[] = {16, 128, SSMF_HOST_WINDOW};
#define GPU_SHAPES (sizeof gpu_T / sizeof gpu_T[0])

struct host_engines {
	const struct ssmf_model *hm;
	const struct ssmf_cuda_api *gpu; /* NULL: the CPU */
	struct ssmf_engine shape[GPU_SHAPES];
	/* the hosts of each shape or a smaller one, which its batches can hold: its engine
	 * needs room for no more */
	size_t hosts[GPU_SHAPES];
};

static size_t gpu_shape(int T)
{
	size_t k = 0;
	while (k + 1 < GPU_SHAPES && T > gpu_T[k])
		k++;
	return k;
}

/* The rows a host of T rows takes of a batch's ROWS: its own on the CPU, its shape's T on
 * the GPU. */
static size_t row_cost(const struct host_engines *en, int T)
{
	return en->gpu ? (size_t)gpu_T[gpu_shape(T)] : (size_t)T;
}

/* The batch's NLL rows into *out: on the CPU into activations a (made for it, freed by the
 * caller), on the GPU by the engine of its shape. */
static int infer_batch(struct host_engines *en, const struct ssmf_batch *b, struct ssmf_acts **a,
                       struct ssmf_outputs *out, char *err, size_t errlen)
{
	if (!en->gpu) {
		*a = ssmf_acts_new_infer(en->hm, b->B, b->T, err, errlen);
		return *a ? ssmf_infer(en->hm, *a, b, out, err, errlen) : -1;
	}
	size_t k = gpu_shape(b->T);
	struct ssmf_engine *e = &en->shape[k];
	size_t most = ROWS / (size_t)gpu_T[k];
	struct ssmf_engine_opts eo = {.max_B = (int)(en->hosts[k] < most ? en->hosts[k] : most),
	                              .max_T = gpu_T[k]};
	if (!e->ctx && ssmf_engine_cuda_open(e, en->gpu, en->hm, &eo, err, errlen) != 0)
		return -1;
	return e->infer(e->ctx, b, out, err, errlen);
}

/* Sequence mode over hosts whose rows fit SSMF_HOST_WINDOW: hosts of similar length share a
 * batch of at most ROWS rows (B x T, T the longest in it), each batch with activations of
 * its own size (CPU) or on its shape's engine (GPU). */
static int run_sequences(struct host_engines *en, struct pass *p, const size_t *hs, size_t nh,
                         char *err, size_t errlen)
{
	struct ssmf_record *rows = malloc(ROWS * sizeof *rows);
	int *lens = malloc(ROWS * sizeof *lens);
	uint64_t *key = malloc((nh ? nh : 1) * sizeof *key); /* rows << 32 | host */
	int rc = -1;
	if (!rows || !lens || !key) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nh; i++)
		key[i] = (uint64_t)(p->start[hs[i] + 1] - p->start[hs[i]] + 1) << 32 | hs[i];
	qsort(key, nh, sizeof *key, cmp_u64);
	for (size_t i = 0; i < nh; i++)
		for (size_t k = gpu_shape((int)(key[i] >> 32)); k < GPU_SHAPES; k++)
			en->hosts[k]++;
	for (size_t i = 0; i < nh;) {
		int T = (int)(key[i] >> 32), B = 0;
		while (i + (size_t)B < nh &&
		       (size_t)(B + 1) * row_cost(en, (int)(key[i + (size_t)B] >> 32)) <= ROWS)
			B++;
		T = (int)(key[i + (size_t)B - 1] >> 32); /* the longest: keys are sorted */
		memset(rows, 0, (size_t)B * (size_t)T * sizeof *rows);
		for (int b = 0; b < B; b++) {
			size_t h = (size_t)(key[i + (size_t)b] & 0xffffffffu);
			lens[b] = (int)(key[i + (size_t)b] >> 32);
			for (int t = 0; t < lens[b]; t++)
				lower_row(p, h, (size_t)t,
				          &rows[(size_t)b * (size_t)T + (size_t)t]);
		}
		struct ssmf_batch batch = {.rec = rows, .len = lens, .B = B, .T = T};
		struct ssmf_outputs out;
		struct ssmf_acts *a = NULL;
		if (infer_batch(en, &batch, &a, &out, err, errlen) != 0) {
			ssmf_acts_free(a);
			goto done;
		}
		for (int b = 0; b < B; b++)
			for (int t = 1; t < lens[b]; t++)
				take(p, (size_t)(key[i + (size_t)b] & 0xffffffffu), (size_t)t - 1,
				     out.nll + ((size_t)b * (size_t)T + (size_t)t) * SSMF_N_COMP);
		ssmf_acts_free(a);
		i += (size_t)B;
	}
	rc = 0;
done:
	free(rows);
	free(lens);
	free(key);
	return rc;
}

/* The longer hosts in windows of SSMF_HOST_WINDOW rows, each window starting from the state
 * the previous one left (ssmf_batch.state): the numbers of one piece, as step mode gives
 * them (ssm.h), in a few large batches rather than one tiny step call per row, whose fork
 * and join cost more than the row on several threads. */
static int run_long(const struct ssmf_model *hm, struct pass *p, const size_t *hs, size_t nh,
                    char *err, size_t errlen)
{
	if (!nh)
		return 0;
	enum { W = SSMF_HOST_WINDOW, GROUP = 32 }; /* GROUP x W rows a batch */
	size_t sf = ssmf_step_state_size(hm);
	int B = nh < GROUP ? (int)nh : GROUP;
	ssmf_real *state = malloc((size_t)B * sf * sizeof *state);
	ssmf_real **sp = malloc((size_t)B * sizeof *sp);
	struct ssmf_record *rows = malloc((size_t)B * W * sizeof *rows);
	int *lens = malloc((size_t)B * sizeof *lens);
	struct ssmf_acts *a = NULL;
	int rc = -1;
	if (!state || !sp || !rows || !lens) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (!(a = ssmf_acts_new_infer(hm, B, W, err, errlen)))
		goto done;
	for (size_t g = 0; g < nh; g += (size_t)B) {
		int nb = nh - g < (size_t)B ? (int)(nh - g) : B;
		size_t most = 0; /* the group's longest sequence, in rows */
		for (int b = 0; b < nb; b++) {
			size_t h = hs[g + (size_t)b], n = p->start[h + 1] - p->start[h] + 1;
			most = n > most ? n : most;
			sp[b] = state + (size_t)b * sf;
			ssmf_step_state_reset(hm, sp[b]);
		}
		for (size_t t0 = 0; t0 < most; t0 += W) {
			memset(rows, 0, (size_t)nb * W * sizeof *rows);
			for (int b = 0; b < nb; b++) {
				size_t h = hs[g + (size_t)b], n = p->start[h + 1] - p->start[h] + 1;
				lens[b] = n > t0 ? (int)(n - t0 < W ? n - t0 : W) : 0;
				for (int k = 0; k < lens[b]; k++)
					lower_row(p, h, t0 + (size_t)k,
					          &rows[(size_t)b * W + (size_t)k]);
			}
			struct ssmf_batch batch = {
			    .rec = rows, .len = lens, .B = nb, .T = W, .state = sp};
			struct ssmf_outputs out;
			if (ssmf_infer(hm, a, &batch, &out, err, errlen) != 0)
				goto done;
			for (int b = 0; b < nb; b++)
				for (int k = 0; k < lens[b]; k++)
					if (t0 + (size_t)k > 0)
						take(p, hs[g + (size_t)b], t0 + (size_t)k - 1,
						     out.nll +
						         ((size_t)b * W + (size_t)k) * SSMF_N_COMP);
		}
	}
	rc = 0;
done:
	ssmf_acts_free(a);
	free(state);
	free(sp);
	free(rows);
	free(lens);
	return rc;
}

static int run_model(const struct ssmf_model *hm, const struct ssmf_cuda_api *gpu, struct pass *p,
                     char *err, size_t errlen)
{
	size_t *shorth = malloc((p->nh ? p->nh : 1) * sizeof *shorth);
	size_t *longh = malloc((p->nh ? p->nh : 1) * sizeof *longh);
	size_t ns = 0, nl = 0;
	if (!shorth || !longh) {
		free(shorth);
		free(longh);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t h = 0; h < p->nh; h++) {
		if (p->start[h + 1] - p->start[h] + 1 <= SSMF_HOST_WINDOW)
			shorth[ns++] = h;
		else
			longh[nl++] = h;
	}
	struct host_engines en = {.hm = hm, .gpu = gpu};
	int rc = run_sequences(&en, p, shorth, ns, err, errlen);
	for (size_t k = 0; k < GPU_SHAPES; k++)
		ssmf_engine_close(&en.shape[k]);
	if (rc == 0)
		rc = run_long(hm, p, longh, nl, err, errlen);
	free(shorth);
	free(longh);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Distinct values among v[0..n) (sorted in place). */
static uint32_t distinct(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_u64);
	uint32_t d = 0;
	for (size_t i = 0; i < n; i++)
		d += i == 0 || v[i] != v[i - 1];
	return d;
}

static uint64_t peer_key(const struct ssmf_flow_summary *s, int role)
{
	const uint8_t *a = role ? s->src_addr : s->dst_addr;
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 0x100000001b3ull;
	return h;
}

static int by_host_score(const void *a, const void *b)
{
	const struct ssmf_host_score *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static int host_table(const struct pass *p, const struct ssmf_flow_score *r, double aw,
                      struct ssmf_host_results *out)
{
	out->hosts = calloc(p->nh ? p->nh : 1, sizeof *out->hosts);
	size_t maxlen = 1;
	for (size_t h = 0; h < p->nh; h++)
		if (p->start[h + 1] - p->start[h] > maxlen)
			maxlen = p->start[h + 1] - p->start[h];
	uint64_t *keys = malloc(maxlen * sizeof *keys);
	if (!out->hosts || !keys) {
		free(keys);
		return -1;
	}
	for (size_t h = 0; h < p->nh; h++) {
		struct ssmf_host_score *hs = &out->hosts[h];
		memcpy(
		    hs->addr,
		    ssmf_host_table_addr(p->seq.table, (uint32_t)h, &hs->ip_version, &hs->source),
		    16);
		size_t e0 = p->start[h], e1 = p->start[h + 1];
		double best = -1;
		for (size_t e = e0; e < e1; e++) {
			if (p->ev[e].role)
				hs->flows_resp++;
			else
				hs->flows_init++;
			double s = p->surprise[e] + aw * p->activity[e];
			hs->score += s;
			for (int c = 0; c < SSMF_N_COMP; c++)
				hs->comp[c] += p->comp[e * SSMF_N_COMP + (size_t)c];
			hs->activity += p->activity[e];
			for (int c = 0; c < SSMF_PROFILE_N; c++)
				hs->activity_comp[c] += p->act_comp[e * SSMF_PROFILE_N + (size_t)c];
			if (s > best) {
				best = s;
				hs->top_flow = p->seq.flow[e];
			}
		}
		double k = (double)(e1 - e0), top = -1;
		hs->max_event = best;
		/* the mean with one unsurprising pseudo-event: a host seen once ranks below one
		 * that is as surprising again and again */
		hs->score /= k + 1;
		hs->activity /= k;
		for (int c = 0; c < SSMF_N_COMP; c++) {
			hs->comp[c] /= k;
			if (hs->comp[c] > top) {
				top = hs->comp[c];
				hs->top_reason = ssmf_host_comp_names[c];
			}
		}
		for (int c = 0; c < SSMF_PROFILE_N; c++) {
			hs->activity_comp[c] /= k;
			if (aw * hs->activity_comp[c] > top) {
				top = aw * hs->activity_comp[c];
				hs->top_reason = ssmf_activity_reasons[c];
			}
		}
		for (size_t e = e0; e < e1; e++)
			keys[e - e0] = peer_key(&r[p->seq.flow[e]].s, p->ev[e].role);
		hs->peers = distinct(keys, e1 - e0);
		for (size_t e = e0; e < e1; e++)
			keys[e - e0] = p->ev[e].service_port;
		hs->ports = distinct(keys, e1 - e0);
		out->events += e1 - e0;
	}
	free(keys);
	out->n = p->nh;
	qsort(out->hosts, out->n, sizeof *out->hosts, by_host_score);
	return 0;
}

int ssmf_hosts_score(const struct ssmf_host_level *hl, struct ssmf_flow_score *r, size_t n,
                     struct ssmf_host_results *out, char *err, size_t errlen)
{
	const struct ssmf_model *hm = hl->model;
	double weight = hl->weight, aw = hl->profile ? hl->activity_weight : 0;
	memset(out, 0, sizeof *out);
	struct pass p = {0};
	int rc = -1;
	if (build(&p, r, n) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (run_model(hm, hl->gpu, &p, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		r[i].packet_score = r[i].score;
		r[i].host_score = 0;
		r[i].event_surprise[0] = r[i].event_surprise[1] = 0;
		r[i].activity = r[i].activity_part = 0;
		r[i].evidence = r[i].evidence_part = 0;
		memset(r[i].activity_comp, 0, sizeof r[i].activity_comp);
	}
	size_t ne = p.start[p.nh];
	for (size_t e = 0; e < ne; e++) {
		struct ssmf_flow_score *f = &r[p.seq.flow[e]];
		f->event_surprise[p.ev[e].role] = p.surprise[e];
		if (p.surprise[e] >= f->host_score) {
			f->host_score = p.surprise[e];
			for (int c = 0; c < SSMF_N_COMP; c++)
				f->host_comp[c] = p.comp[e * SSMF_N_COMP + (size_t)c];
		}
		if (hl->profile) {
			double *ac = p.act_comp + e * SSMF_PROFILE_N;
			p.activity[e] = ssmf_profile_score(hl->profile, &p.ev[e], ac);
			if (p.activity[e] > f->activity) {
				f->activity = p.activity[e];
				memcpy(f->activity_comp, ac, sizeof f->activity_comp);
			}
		}
	}
	/* The mean surprise per observation: each predicted packet, and the flow's event in its
	 * hosts' sequences counted `weight` times. */
	for (size_t i = 0; i < n; i++) {
		double pred = r[i].packets_scored > 1 ? (double)(r[i].packets_scored - 1) : 0;
		if (pred + weight > 0)
			r[i].score =
			    (r[i].packet_score * pred + weight * r[i].host_score) / (pred + weight);
		r[i].activity_part = aw * r[i].activity;
		r[i].evidence = ssmf_evidence_score(hl->evidence, r[i].packet_score, pred);
		r[i].evidence_part = hl->evidence_weight * r[i].evidence;
		r[i].score +=
		    r[i].activity_part + r[i].evidence_part + hl->peak_weight * r[i].max_surprise;
	}
	if (host_table(&p, r, aw, out) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = 0;
out:
	ssmf_host_sequences_free(&p.seq);
	free(p.surprise);
	free(p.comp);
	free(p.activity);
	free(p.act_comp);
	return rc;
}

void ssmf_host_results_free(struct ssmf_host_results *h)
{
	free(h->hosts);
	memset(h, 0, sizeof *h);
}
