/* scorer_seq.c - sequence mode: an ended flow's records (as a capture's flow table kept them,
 * or as a dataset holds them) wait in a queue with other ended flows' and are scored together
 * by an engine's infer (ssm/engine.h: the CPU's, or the GPU's), flows of similar length in one
 * batch. A flow longer than the table's max_packets comes in chunks: each is scored from the state
 * the previous one left (ssmf_batch.state, on the CPU), so every packet is scored and only that
 * flow's state is kept between chunks. Several chunks of a flow may wait in the queue: a flush
 * runs the chunks in waves, wave k holding every chunked flow's k-th, so each batch sees many
 * flows and a flow's chunks run in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sort_index.h"
#include "datasets/labels.h"
#include "score/scorer_impl.h"

/* Batches of short flows take many rows, long ones fewer: each shape has its own
 * activations, both of about batch_packets positions. */
#define SHORT_ROWS 256
/* Flows this short batch whatever their padding. */
#define PAD_FREE_T 16
/* The queue holds this many batches' records before it is scored: sorted by length
 * together, flows find partners of their length (a few MB of records). */
#define QUEUE_BATCHES 8

struct seq_shape {
	int rows, T; /* flows per batch, their longest */
	/* made on first use: the CPU's engine, and with a GPU the GPU's (for batches that
	 * start from the initial state) */
	struct ssmf_engine cpu, gpu;
};

struct seq_batcher {
	struct seq_shape shape[2]; /* short, long */
	struct ssmf_record *rec;   /* (batch_packets) one batch, flow b's rows at b * T */
	int *len;
	ssmf_real **state;
	size_t *order;
	uint64_t *keys; /* (order_cap) the items' lengths, to sort order by */
	size_t order_cap;
};

void scorer_seq_free(struct ssmf_scorer *sc)
{
	struct seq_batcher *q = sc->seq;
	free(sc->q);
	free(sc->q_rec);
	sc->q = NULL;
	sc->q_rec = NULL;
	sc->nq = sc->q_cap = sc->q_nrec = sc->q_rec_cap = 0;
	sc->seq = NULL;
	if (!q)
		return;
	for (int i = 0; i < 2; i++) {
		ssmf_engine_close(&q->shape[i].cpu);
		ssmf_engine_close(&q->shape[i].gpu);
	}
	free(q->rec);
	free(q->len);
	free(q->state);
	free(q->order);
	free(q->keys);
	free(q);
}

static int oom(struct ssmf_scorer *sc)
{
	snprintf(sc->error, sizeof sc->error, "out of memory");
	return -1;
}

/* Positions per batch: batch_packets, at least one chunk. */
static int budget(const struct ssmf_scorer *sc)
{
	int b = sc->o.batch_packets, c = sc->o.chunk_packets;
	return b > c ? b : c;
}

static int batcher_new(struct ssmf_scorer *sc)
{
	struct seq_batcher *q = calloc(1, sizeof *q);
	if (!q)
		return oom(sc);
	sc->seq = q;
	int n = budget(sc), c = sc->o.chunk_packets;
	q->shape[0].rows = SHORT_ROWS;
	q->shape[0].T = n / SHORT_ROWS > 0 ? n / SHORT_ROWS : 1;
	if (q->shape[0].T > c)
		q->shape[0].T = c;
	q->shape[1].rows = n / c;
	q->shape[1].T = c;
	q->rec = malloc((size_t)n * sizeof *q->rec);
	q->len = malloc(SHORT_ROWS * sizeof *q->len);
	q->state = malloc(SHORT_ROWS * sizeof *q->state);
	if (!q->rec || !q->len || !q->state)
		return oom(sc);
	return 0;
}

/* Shape s's engine on the GPU or the CPU, opened on first use; NULL on error. */
static struct ssmf_engine *shape_engine(struct ssmf_scorer *sc, struct seq_shape *s, int on_gpu)
{
	struct ssmf_engine *e = on_gpu ? &s->gpu : &s->cpu;
	struct ssmf_engine_opts eo = {.max_B = s->rows, .max_T = s->T};
	if (!e->ctx &&
	    (on_gpu ? ssmf_engine_cuda_open(e, sc->o.gpu, sc->m, &eo, sc->error, sizeof sc->error)
	            : ssmf_engine_cpu_open(e, sc->m, &eo, sc->error, sizeof sc->error)) != 0)
		return NULL;
	return e;
}

/* A scored item's rows into its flow: a whole flow's result, or a chunked flow's sums
 * (and its result after its last chunk). */
static int take_item(struct ssmf_scorer *sc, const struct seq_item *it, const ssmf_real *nll,
                     const struct ssmf_record *rec)
{
	int n = (int)it->n;
	struct live_flow *f = it->carry;
	sc->packets += it->n;
	if (!f) {
		struct ssmf_flow_score *r = &sc->res[it->result];
		double comp[SSMF_N_COMP] = {0};
		if (sc->o.per_packet && n > 0 &&
		    !(r->packets = malloc((size_t)n * sizeof *r->packets)))
			return oom(sc);
		scorer_add_rows(comp, &r->max_surprise, &r->max_surprise_index, 0, nll, rec, n,
		                r->packets);
		scorer_finish_score(r, comp, it->n);
		return 0;
	}
	struct ssmf_packet_score *pk = NULL;
	if (sc->o.per_packet) {
		if (f->npk + it->n > f->cappk) {
			size_t nc = f->cappk ? f->cappk : 16;
			while (nc < f->npk + it->n)
				nc *= 2;
			struct ssmf_packet_score *np = realloc(f->packets, nc * sizeof *np);
			if (!np)
				return oom(sc);
			f->packets = np;
			f->cappk = nc;
		}
		pk = f->packets + f->npk;
		f->npk += it->n;
	}
	scorer_add_rows(f->comp, &f->max_surprise, &f->max_index, f->seen, nll, rec, n, pk);
	f->seen += it->n;
	f->queued--;
	if (it->result == SEQ_OPEN) /* not its last: an ended flow's is its last in the queue */
		return 0;
	struct ssmf_flow_score *r = &sc->res[it->result];
	scorer_finish_score(r, f->comp, f->seen);
	r->max_surprise = f->max_surprise;
	r->max_surprise_index = f->max_index;
	r->packets = f->packets;
	f->packets = NULL;
	scorer_remove(sc, scorer_find(sc, f->flow_id));
	scorer_free_live(f);
	return 0;
}

/* Scores the queued items idx[0..n) (all whole flows, or all chunked), shortest first (ties
 * in queue order); keys (n) is room to sort them. */
static int run_items(struct ssmf_scorer *sc, size_t *idx, uint64_t *keys, size_t n, int carried)
{
	struct seq_batcher *q = sc->seq;
	for (size_t k = 0; k < n; k++)
		keys[k] = sc->q[idx[k]].n;
	if (ssmf_sort_index(idx, keys, n) != 0)
		return oom(sc);
	int on_gpu = sc->o.gpu && !carried; /* the GPU's sequence path starts from zero */
	size_t limit = (size_t)budget(sc);
	for (size_t i = 0; i < n;) {
		if (sc->o.should_stop && sc->o.should_stop()) {
			snprintf(sc->error, sizeof sc->error, "interrupted");
			return -1;
		}
		int T = (int)sc->q[idx[i]].n, B = 0;
		size_t j = i, used = 0;
		while (j < n) {
			int t = (int)sc->q[idx[j]].n, T2 = t > T ? t : T;
			int rows = T2 <= q->shape[0].T ? q->shape[0].rows : q->shape[1].rows;
			size_t pos = (size_t)(B + 1) * (size_t)T2;
			/* every flow runs over the batch's T rows: padding costs as much as
			 * packets, so a batch stops before it passes an eighth of the rows */
			if (B + 1 > rows || pos > limit ||
			    (T2 > PAD_FREE_T && pos - (used + (size_t)t) > pos / 8))
				break;
			T = T2;
			used += (size_t)t;
			B++;
			j++;
		}
		if (T < 1)
			T = 1;
		struct seq_shape *s = &q->shape[T <= q->shape[0].T ? 0 : 1];
		struct ssmf_engine *e = shape_engine(sc, s, on_gpu);
		if (!e)
			return -1;
		memset(q->rec, 0, (size_t)B * (size_t)T * sizeof *q->rec);
		for (int b = 0; b < B; b++) {
			const struct seq_item *it = &sc->q[idx[i + (size_t)b]];
			q->len[b] = (int)it->n;
			memcpy(&q->rec[(size_t)b * T], &sc->q_rec[it->off], it->n * sizeof *q->rec);
			q->state[b] = carried ? it->carry->state : NULL;
		}
		struct ssmf_batch batch = {.rec = q->rec, .len = q->len, .B = B, .T = T};
		if (carried)
			batch.state = q->state;
		struct ssmf_outputs out;
		if (e->infer(e->ctx, &batch, &out, sc->error, sizeof sc->error) != 0)
			return -1;
		for (int b = 0; b < B; b++)
			if (take_item(sc, &sc->q[idx[i + (size_t)b]],
			              &out.nll[(size_t)b * T * SSMF_N_COMP],
			              &q->rec[(size_t)b * T]) != 0)
				return -1;
		i = j;
	}
	return 0;
}

int scorer_seq_flush(struct ssmf_scorer *sc)
{
	if (!sc->nq)
		return 0;
	if (!sc->seq && batcher_new(sc) != 0)
		return -1;
	struct seq_batcher *q = sc->seq;
	if (q->order_cap < sc->nq) {
		size_t *o = realloc(q->order, sc->nq * sizeof *o);
		if (o)
			q->order = o;
		uint64_t *k = o ? realloc(q->keys, sc->nq * sizeof *k) : NULL;
		if (!k)
			return oom(sc);
		q->keys = k;
		q->order_cap = sc->nq;
	}
	/* whole flows first (in one run), then the chunks a wave at a time */
	size_t nwhole = 0, nchunk = 0;
	for (size_t i = 0; i < sc->nq; i++)
		if (!sc->q[i].carry)
			q->order[nwhole++] = i;
	size_t *chunks = q->order + nwhole;
	uint64_t *keys = q->keys + nwhole;
	for (size_t i = 0; i < sc->nq; i++)
		if (sc->q[i].carry) {
			keys[nchunk] = sc->q[i].wave;
			chunks[nchunk++] = i;
		}
	int rc = run_items(sc, q->order, q->keys, nwhole, 0);
	if (rc == 0 && ssmf_sort_index(chunks, keys, nchunk) != 0)
		rc = oom(sc);
	for (size_t i = 0, j; i < nchunk && rc == 0; i = j) {
		for (j = i + 1; j < nchunk && sc->q[chunks[j]].wave == sc->q[chunks[i]].wave;)
			j++;
		rc = run_items(sc, chunks + i, keys + i, j - i, 1);
	}
	sc->nq = 0;
	sc->q_nrec = 0;
	return rc;
}

/* Appends an item with a copy of its records; flushes when the queue holds a batch's worth. */
static int enqueue(struct ssmf_scorer *sc, const struct ssmf_record *rec, uint32_t n,
                   struct live_flow *carry, size_t result)
{
	if (sc->nq == sc->q_cap) {
		size_t nc = sc->q_cap ? sc->q_cap * 2 : 1024;
		struct seq_item *nq = realloc(sc->q, nc * sizeof *nq);
		if (!nq)
			return oom(sc);
		sc->q = nq;
		sc->q_cap = nc;
	}
	if (sc->q_nrec + n > sc->q_rec_cap) {
		size_t nc = sc->q_rec_cap ? sc->q_rec_cap : (size_t)budget(sc);
		while (nc < sc->q_nrec + n)
			nc *= 2;
		struct ssmf_record *nr = realloc(sc->q_rec, nc * sizeof *nr);
		if (!nr)
			return oom(sc);
		sc->q_rec = nr;
		sc->q_rec_cap = nc;
	}
	memcpy(&sc->q_rec[sc->q_nrec], rec, (size_t)n * sizeof *rec);
	sc->q[sc->nq++] = (struct seq_item){.off = sc->q_nrec,
	                                    .n = n,
	                                    .carry = carry,
	                                    .result = result,
	                                    .wave = carry ? carry->queued++ : 0};
	sc->q_nrec += n;
	return sc->q_nrec >= (size_t)budget(sc) * QUEUE_BATCHES ? scorer_seq_flush(sc) : 0;
}

/* The input a flow started in: the last whose first flow id is <= its id. */
static uint32_t input_of(const struct ssmf_scorer *sc, uint32_t flow_id)
{
	size_t i = sc->ninputs;
	while (i > 1 && sc->input_first_flow[i - 1] > flow_id)
		i--;
	return i ? (uint32_t)(i - 1) : 0;
}

int ssmf_scorer_flow_chunk(struct ssmf_scorer *sc, uint32_t flow_id, const struct ssmf_record *rec,
                           uint32_t n)
{
	struct live_flow *f = *scorer_find(sc, flow_id);
	if (!f) {
		if (scorer_reserve(sc) != 0)
			return -1;
		f = calloc(1, sizeof *f);
		if (f)
			f->state = malloc(sc->state_floats * sizeof(ssmf_real));
		if (!f || !f->state) {
			scorer_free_live(f);
			return oom(sc);
		}
		ssmf_step_state_reset(sc->m, f->state);
		f->flow_id = flow_id;
		f->input = input_of(sc, flow_id);
		if (n)
			f->first = rec[0];
		*scorer_find(sc, flow_id) = f;
		sc->tlen++;
	}
	return enqueue(sc, rec, n, f, SEQ_OPEN);
}

/* An ended flow with its last n records: its result, labelled from the input it started in
 * (or, for a dataset's flow, ds's path), and the records in the queue. */
static int flow_ended(struct ssmf_scorer *sc, const struct ssmf_flow_summary *s,
                      const struct ssmf_record *rec, uint32_t n, struct ssmf_dataset *ds)
{
	struct live_flow *f = *scorer_find(sc, s->flow_id);
	struct ssmf_flow_score *r = scorer_new_result(sc);
	if (!r)
		return oom(sc);
	r->s = *s;
	if (f)
		r->first = f->first;
	else if (n)
		r->first = rec[0];
	r->input = f ? f->input : input_of(sc, s->flow_id);
	if (!ds)
		scorer_label(sc, r, f ? f->input : input_of(sc, s->flow_id));
	else if (sc->o.labels && ssmf_labels_active(sc->o.labels))
		r->s.label = ssmf_labels_lookup(sc->o.labels, s, ssmf_dataset_path(ds));
	size_t result = (size_t)(r - sc->res);
	if (!n && !f) /* nothing to score */
		return 0;
	return enqueue(sc, rec, n, f, result);
}

int ssmf_scorer_flow_records(struct ssmf_scorer *sc, const struct ssmf_flow_summary *s,
                             const struct ssmf_record *rec)
{
	return flow_ended(sc, s, rec, s->packet_count, NULL);
}

/* ---- datasets ---- */

/* Records read at once: flows are contiguous in /packets, so one read serves many. */
#define READ_WINDOW (1u << 16)

/* A dataset's flow whose n records (from its first) are in rec: chunks, then its end. */
static int dataset_flow(struct ssmf_scorer *sc, struct ssmf_dataset *ds,
                        const struct ssmf_flow_summary *s, const struct ssmf_record *rec,
                        uint32_t n)
{
	uint32_t c = (uint32_t)sc->o.chunk_packets, done = 0;
	for (; n - done > c; done += c)
		if (ssmf_scorer_flow_chunk(sc, s->flow_id, rec + done, c) != 0)
			return -1;
	return flow_ended(sc, s, rec + done, n - done, ds);
}

/* A flow longer than the read window, read a chunk at a time into buf. */
static int dataset_long_flow(struct ssmf_scorer *sc, struct ssmf_dataset *ds,
                             const struct ssmf_flow_summary *s, struct ssmf_record *buf)
{
	uint32_t c = (uint32_t)sc->o.chunk_packets, n = s->packet_count, done = 0;
	for (; n - done > c; done += c)
		if (ssmf_dataset_read_packets(ds, s->packet_offset + done, c, buf, sc->error,
		                              sizeof sc->error) != 0 ||
		    ssmf_scorer_flow_chunk(sc, s->flow_id, buf, c) != 0)
			return -1;
	if (ssmf_dataset_read_packets(ds, s->packet_offset + done, n - done, buf, sc->error,
	                              sizeof sc->error) != 0)
		return -1;
	return flow_ended(sc, s, buf, n - done, ds);
}

/* Flows [i, j) of the dataset, whose records lie one after another from flows[i]'s. */
static int dataset_window(struct ssmf_scorer *sc, struct ssmf_dataset *ds,
                          const struct ssmf_flow_summary *flows, size_t i, size_t j, uint64_t nrec,
                          struct ssmf_record *buf)
{
	if (i == j)
		return 0;
	if (ssmf_dataset_read_packets(ds, flows[i].packet_offset, nrec, buf, sc->error,
	                              sizeof sc->error) != 0)
		return -1;
	for (size_t k = i; k < j; k++)
		if (dataset_flow(sc, ds, &flows[k],
		                 buf + (flows[k].packet_offset - flows[i].packet_offset),
		                 flows[k].packet_count) != 0)
			return -1;
	return 0;
}

int ssmf_scorer_dataset(struct ssmf_scorer *sc, struct ssmf_dataset *ds)
{
	const struct ssmf_flow_summary *flows = ssmf_dataset_flows(ds);
	size_t nf = (size_t)ssmf_dataset_nflows(ds);
	size_t cap =
	    READ_WINDOW > (size_t)sc->o.chunk_packets ? READ_WINDOW : (size_t)sc->o.chunk_packets;
	struct ssmf_record *buf = malloc(cap * sizeof *buf);
	if (!buf)
		return oom(sc);
	int rc = 0;
	size_t first = 0; /* the window: flows [first, k), nrec records */
	uint64_t nrec = 0;
	for (size_t k = 0; k < nf && rc == 0; k++) {
		const struct ssmf_flow_summary *f = &flows[k];
		int follows = first < k && f->packet_offset == flows[first].packet_offset + nrec;
		if (first < k && (!follows || nrec + f->packet_count > cap)) {
			rc = dataset_window(sc, ds, flows, first, k, nrec, buf);
			first = k;
			nrec = 0;
		}
		if (rc == 0 && f->packet_count > cap) {
			rc = dataset_long_flow(sc, ds, f, buf);
			first = k + 1;
		} else {
			nrec += f->packet_count;
		}
	}
	if (rc == 0)
		rc = dataset_window(sc, ds, flows, first, nf, nrec, buf);
	if (rc == 0)
		rc = scorer_seq_flush(sc);
	free(buf);
	return rc;
}
