#include "score/scorer.h"

#include "score/scorer_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ssmf_scorer_opts_default(struct ssmf_scorer_opts *o)
{
	o->per_packet = 0;
	o->batch_flows = 1024;
	o->buffer_packets = 16384;
	o->batch_packets = 1 << 15;
	o->labels = NULL;
	o->gpu = NULL;
	o->gpu_flows = 65536;
	o->should_stop = NULL;
	o->mode = SSMF_SCORE_SEQUENCE;
	o->chunk_packets = 1024;
}

struct ssmf_scorer *ssmf_scorer_new(const struct ssmf_model *m, const struct ssmf_scorer_opts *o,
                                    char *err, size_t errlen)
{
	struct ssmf_scorer *sc = calloc(1, sizeof *sc);
	if (!sc) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sc->m = m;
	sc->o = *o;
	sc->state_floats = ssmf_step_state_size(m);
	sc->tcap = 1024;
	sc->table = calloc(sc->tcap, sizeof *sc->table);
	if (!sc->table) {
		snprintf(err, errlen, "out of memory");
		ssmf_scorer_free(sc);
		return NULL;
	}
	if (o->mode != SSMF_SCORE_STEP) /* the buffers below are step mode's */
		return sc;
	int nb = o->batch_flows;
	sc->bflow = calloc((size_t)nb, sizeof *sc->bflow);
	sc->brec = calloc((size_t)nb, sizeof *sc->brec);
	sc->bstate = calloc((size_t)nb, sizeof *sc->bstate);
	sc->bnll = calloc((size_t)nb * SSMF_N_COMP, sizeof *sc->bnll);
	sc->bslot = calloc((size_t)nb, sizeof *sc->bslot);
	sc->pend_cap = (size_t)(o->buffer_packets > 0 ? o->buffer_packets : 1);
	sc->pflow = calloc(sc->pend_cap, sizeof *sc->pflow);
	sc->prec = calloc(sc->pend_cap, sizeof *sc->prec);
	sc->pwave = calloc(sc->pend_cap, sizeof *sc->pwave);
	sc->porder = calloc(sc->pend_cap, sizeof *sc->porder);
	if (!sc->bflow || !sc->brec || !sc->bstate || !sc->bnll || !sc->pflow || !sc->prec ||
	    !sc->pwave || !sc->porder) {
		snprintf(err, errlen, "out of memory");
		ssmf_scorer_free(sc);
		return NULL;
	}
	if (o->gpu) {
		int n = o->gpu_flows > 0 ? o->gpu_flows : 1;
		sc->free_slots = malloc((size_t)n * sizeof *sc->free_slots);
		if (!sc->free_slots || !sc->bslot) {
			snprintf(err, errlen, "out of memory");
			ssmf_scorer_free(sc);
			return NULL;
		}
		for (int i = 0; i < n; i++) /* lowest slots first */
			sc->free_slots[i] = n - 1 - i;
		sc->nfree = n;
	}
	return sc;
}

void scorer_free_live(struct live_flow *f)
{
	if (!f)
		return;
	free(f->state);
	free(f->packets);
	free(f);
}

void ssmf_scorer_free(struct ssmf_scorer *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->tcap; i++)
		scorer_free_live(sc->table ? sc->table[i] : NULL);
	free(sc->table);
	free(sc->pflow);
	free(sc->prec);
	free(sc->pwave);
	free(sc->porder);
	free(sc->ended);
	ssmf_engine_close(&sc->step_engine);
	free(sc->free_slots);
	free(sc->bslot);
	free(sc->bflow);
	free(sc->brec);
	free(sc->bstate);
	free(sc->bnll);
	for (size_t i = 0; i < sc->nres; i++)
		free(sc->res[i].packets);
	free(sc->res);
	for (size_t i = 0; i < sc->ninputs; i++)
		free(sc->inputs[i]);
	free(sc->inputs);
	free(sc->input_first_flow);
	scorer_seq_free(sc);
	free(sc);
}

size_t ssmf_scorer_state_bytes(const struct ssmf_scorer *sc)
{
	if (sc->o.mode == SSMF_SCORE_SEQUENCE) /* records wait in the flow table, charged there */
		return 0;
	return sc->state_floats * sizeof(ssmf_real) + sizeof(struct live_flow);
}

const char *ssmf_scorer_error(const struct ssmf_scorer *sc)
{
	return sc->error;
}

struct ssmf_flow_score *ssmf_scorer_results(struct ssmf_scorer *sc, size_t *n)
{
	*n = sc->nres;
	return sc->res;
}

uint64_t ssmf_scorer_packets(const struct ssmf_scorer *sc)
{
	return sc->packets;
}

void ssmf_scorer_set_input(struct ssmf_scorer *sc, const char *path, uint32_t first_flow_id)
{
	char **n = realloc(sc->inputs, (sc->ninputs + 1) * sizeof *n);
	if (!n)
		return;
	sc->inputs = n;
	uint32_t *f = realloc(sc->input_first_flow, (sc->ninputs + 1) * sizeof *f);
	if (!f)
		return;
	sc->input_first_flow = f;
	f[sc->ninputs] = first_flow_id;
	sc->inputs[sc->ninputs++] = strdup(path);
}

/* ---- the flow id table ---- */

static size_t slot_of(const struct ssmf_scorer *sc, uint32_t id)
{
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 32) & (sc->tcap - 1);
}

struct live_flow **scorer_find(struct ssmf_scorer *sc, uint32_t id)
{
	for (size_t i = slot_of(sc, id);; i = (i + 1) & (sc->tcap - 1))
		if (!sc->table[i] || sc->table[i]->flow_id == id)
			return &sc->table[i];
}

static int grow(struct ssmf_scorer *sc)
{
	struct live_flow **old = sc->table;
	size_t ocap = sc->tcap;
	sc->table = calloc(ocap * 2, sizeof *sc->table);
	if (!sc->table) {
		sc->table = old;
		return -1;
	}
	sc->tcap = ocap * 2;
	for (size_t i = 0; i < ocap; i++)
		if (old[i])
			*scorer_find(sc, old[i]->flow_id) = old[i];
	free(old);
	return 0;
}

void scorer_remove(struct ssmf_scorer *sc, struct live_flow **slot)
{
	size_t i = (size_t)(slot - sc->table), mask = sc->tcap - 1;
	sc->table[i] = NULL;
	sc->tlen--;
	/* backward-shift: pull later members of the probe run into the hole */
	for (size_t j = (i + 1) & mask; sc->table[j]; j = (j + 1) & mask) {
		size_t home = slot_of(sc, sc->table[j]->flow_id);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			sc->table[i] = sc->table[j];
			sc->table[j] = NULL;
			i = j;
		}
	}
}

/* ---- capture mode ---- */

/* One step call over the packets gathered in b*: each of a different flow. */
static int step_batch(struct ssmf_scorer *sc)
{
	if (!sc->bn)
		return 0;
	struct ssmf_engine *e = &sc->step_engine;
	if (!e->ctx) { /* on first use */
		struct ssmf_engine_opts eo = {.step_n = sc->o.batch_flows,
		                              .step_flows = sc->o.gpu_flows};
		if ((sc->o.gpu
		         ? ssmf_engine_cuda_open(e, sc->o.gpu, sc->m, &eo, sc->error,
		                                 sizeof sc->error)
		         : ssmf_engine_cpu_open(e, sc->m, &eo, sc->error, sizeof sc->error)) != 0)
			return -1;
	}
	if (sc->o.gpu)
		for (int i = 0; i < sc->bn; i++)
			sc->bslot[i] = sc->bflow[i]->slot;
	if (e->step(e->ctx, sc->brec, sc->bstate, sc->bslot, sc->bn, sc->bnll, sc->error,
	            sizeof sc->error) != 0)
		return -1;
	for (int i = 0; i < sc->bn; i++) {
		struct live_flow *f = sc->bflow[i];
		const ssmf_real *nll = &sc->bnll[(size_t)i * SSMF_N_COMP];
		double sum = 0;
		for (int c = 0; c < SSMF_N_COMP; c++) {
			f->comp[c] += nll[c];
			sum += nll[c];
		}
		if (f->seen > 0 && (sum > f->max_surprise || f->seen == 1)) {
			f->max_surprise = sum;
			f->max_index = (uint32_t)f->seen;
		}
		if (sc->o.per_packet) {
			if (f->npk == f->cappk) {
				size_t nc = f->cappk ? f->cappk * 2 : 16;
				struct ssmf_packet_score *np = realloc(f->packets, nc * sizeof *np);
				if (!np) {
					snprintf(sc->error, sizeof sc->error, "out of memory");
					return -1;
				}
				f->packets = np;
				f->cappk = nc;
			}
			struct ssmf_packet_score *p = &f->packets[f->npk++];
			p->ts_ns = sc->brec[i].ts_ns;
			p->ip_len = sc->brec[i].ip_len;
			p->direction = sc->brec[i].direction;
			for (int c = 0; c < SSMF_N_COMP; c++)
				p->nll[c] = (float)nll[c];
		}
		f->seen++;
	}
	sc->packets += (uint64_t)sc->bn;
	sc->bn = 0;
	return 0;
}

static int finish_flow(struct ssmf_scorer *sc, struct live_flow *f);

/* Runs every buffered packet through the model, wave by wave, then finishes the
 * flows that ended meanwhile. */
static int flush_pending(struct ssmf_scorer *sc)
{
	uint32_t waves = 0;
	for (size_t i = 0; i < sc->npend; i++) {
		struct live_flow *f = sc->pflow[i];
		sc->pwave[i] = f->wave++;
		if (f->wave > waves)
			waves = f->wave;
	}
	/* counting sort by wave, stable: a flow's packets stay in order */
	size_t *count = calloc((size_t)waves + 1, sizeof *count);
	if (!count) {
		snprintf(sc->error, sizeof sc->error, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < sc->npend; i++)
		count[sc->pwave[i] + 1]++;
	for (uint32_t w = 0; w < waves; w++)
		count[w + 1] += count[w];
	for (size_t i = 0; i < sc->npend; i++)
		sc->porder[count[sc->pwave[i]]++] = i;
	free(count);
	int rc = 0;
	uint32_t cur_wave = 0;
	for (size_t k = 0; k < sc->npend && rc == 0; k++) {
		size_t i = sc->porder[k];
		if (sc->pwave[i] != cur_wave || sc->bn == sc->o.batch_flows) {
			rc = step_batch(sc);
			cur_wave = sc->pwave[i];
		}
		struct live_flow *f = sc->pflow[i];
		sc->bflow[sc->bn] = f;
		sc->brec[sc->bn] = sc->prec[i];
		sc->bstate[sc->bn] = f->state;
		sc->bn++;
	}
	if (rc == 0)
		rc = step_batch(sc);
	for (size_t i = 0; i < sc->npend; i++) {
		sc->pflow[i]->wave = 0;
		sc->pflow[i]->npend = 0;
	}
	sc->npend = 0;
	for (size_t i = 0; i < sc->nended && rc == 0; i++)
		rc = finish_flow(sc, sc->ended[i]);
	sc->nended = 0;
	return rc;
}

int scorer_reserve(struct ssmf_scorer *sc)
{
	if (sc->tlen + 1 > sc->tcap / 2 && grow(sc) != 0) {
		snprintf(sc->error, sizeof sc->error, "out of memory");
		return -1;
	}
	return 0;
}

int ssmf_scorer_record(struct ssmf_scorer *sc, const struct ssmf_record *r)
{
	if (sc->o.mode != SSMF_SCORE_STEP) {
		snprintf(sc->error, sizeof sc->error,
		         "a packet for step mode given to a "
		         "sequence-mode scorer");
		return -1;
	}
	if (scorer_reserve(sc) != 0)
		return -1;
	struct live_flow **slot = scorer_find(sc, r->flow_id);
	struct live_flow *f = *slot;
	if (!f) {
		f = calloc(1, sizeof *f);
		if (f && !sc->o.gpu)
			f->state = malloc(sc->state_floats * sizeof(ssmf_real));
		if (!f || (!sc->o.gpu && !f->state)) {
			scorer_free_live(f);
			snprintf(sc->error, sizeof sc->error, "out of memory");
			return -1;
		}
		if (sc->o.gpu) {
			if (!sc->nfree && flush_pending(sc) != 0) /* finished flows free slots */
				return -1;
			if (!sc->nfree) {
				scorer_free_live(f);
				snprintf(sc->error, sizeof sc->error,
				         "more than %d flows active at once on the GPU (raise "
				         "--gpu-flows, or lower --idle-timeout)",
				         sc->o.gpu_flows);
				return -1;
			}
			f->slot = sc->free_slots[--sc->nfree];
			/* a reused slot starts from the initial state */
			struct ssmf_engine *e = &sc->step_engine;
			if (e->ctx &&
			    e->step_reset(e->ctx, &f->slot, 1, sc->error, sizeof sc->error) != 0) {
				scorer_free_live(f);
				return -1;
			}
			slot = scorer_find(sc,
			                   r->flow_id); /* the flush may have moved table entries */
		} else {
			ssmf_step_state_reset(sc->m, f->state);
		}
		f->flow_id = r->flow_id;
		f->first = *r;
		f->input = sc->ninputs ? (uint32_t)(sc->ninputs - 1) : 0;
		*slot = f;
		sc->tlen++;
	}
	sc->pflow[sc->npend] = f;
	sc->prec[sc->npend] = *r;
	sc->npend++;
	f->npend++;
	return sc->npend == sc->pend_cap ? flush_pending(sc) : 0;
}

struct ssmf_flow_score *scorer_new_result(struct ssmf_scorer *sc)
{
	if (sc->nres == sc->capres) {
		size_t nc = sc->capres ? sc->capres * 2 : 1024;
		struct ssmf_flow_score *n = realloc(sc->res, nc * sizeof *n);
		if (!n)
			return NULL;
		sc->res = n;
		sc->capres = nc;
	}
	struct ssmf_flow_score *r = &sc->res[sc->nres++];
	memset(r, 0, sizeof *r);
	return r;
}

void scorer_finish_score(struct ssmf_flow_score *r, const double comp[SSMF_N_COMP], uint64_t seen)
{
	uint64_t pred = seen > 1 ? seen - 1 : 0;
	r->score = 0;
	for (int c = 0; c < SSMF_N_COMP; c++) {
		r->comp[c] = pred ? comp[c] / (double)pred : 0;
		r->score += r->comp[c];
	}
	r->packets_scored = seen;
}

void scorer_label(struct ssmf_scorer *sc, struct ssmf_flow_score *r, uint32_t input)
{
	if (sc->o.labels && ssmf_labels_active(sc->o.labels))
		r->s.label = ssmf_labels_lookup(sc->o.labels, &r->s,
		                                input < sc->ninputs ? sc->inputs[input] : NULL);
}

void scorer_add_rows(double comp[SSMF_N_COMP], double *max_surprise, uint32_t *max_index,
                     uint64_t seen, const ssmf_real *nll, const struct ssmf_record *rec, int n,
                     struct ssmf_packet_score *pk)
{
	for (int t = 0; t < n; t++) {
		const ssmf_real *x = &nll[(size_t)t * SSMF_N_COMP];
		double sum = 0;
		for (int c = 0; c < SSMF_N_COMP; c++) {
			comp[c] += x[c];
			sum += x[c];
		}
		uint64_t k = seen + (uint64_t)t; /* the packet's index in its flow */
		if (k > 0 && (k == 1 || sum > *max_surprise)) {
			*max_surprise = sum;
			*max_index = (uint32_t)k;
		}
		if (pk) {
			pk[t].ts_ns = rec[t].ts_ns;
			pk[t].ip_len = rec[t].ip_len;
			pk[t].direction = rec[t].direction;
			for (int c = 0; c < SSMF_N_COMP; c++)
				pk[t].nll[c] = (float)x[c];
		}
	}
}

/* The flow's result, from its accumulated surprises; frees the live flow. */
static int finish_flow(struct ssmf_scorer *sc, struct live_flow *f)
{
	struct ssmf_flow_score *r = scorer_new_result(sc);
	if (!r) {
		snprintf(sc->error, sizeof sc->error, "out of memory");
		return -1;
	}
	r->s = f->summary;
	r->first = f->first;
	r->input = f->input;
	scorer_finish_score(r, f->comp, f->seen);
	r->max_surprise = f->max_surprise;
	r->max_surprise_index = f->max_index;
	r->packets = f->packets;
	f->packets = NULL;
	scorer_label(sc, r, f->input);
	scorer_remove(sc, scorer_find(sc, f->flow_id));
	if (sc->o.gpu)
		sc->free_slots[sc->nfree++] = f->slot;
	scorer_free_live(f);
	return 0;
}

int ssmf_scorer_flow_end(struct ssmf_scorer *sc, const struct ssmf_flow_summary *s)
{
	struct live_flow *f = *scorer_find(sc, s->flow_id);
	if (!f) { /* no packet reached the scorer: nothing to score */
		struct ssmf_flow_score *r = scorer_new_result(sc);
		if (!r) {
			snprintf(sc->error, sizeof sc->error, "out of memory");
			return -1;
		}
		r->s = *s;
		return 0;
	}
	f->summary = *s;
	if (!f->npend)
		return finish_flow(sc, f);
	/* packets of it are still buffered: finish it after the next flush */
	if (sc->nended == sc->ended_cap) {
		size_t nc = sc->ended_cap ? sc->ended_cap * 2 : 256;
		struct live_flow **n = realloc(sc->ended, nc * sizeof *n);
		if (!n) {
			snprintf(sc->error, sizeof sc->error, "out of memory");
			return -1;
		}
		sc->ended = n;
		sc->ended_cap = nc;
	}
	sc->ended[sc->nended++] = f;
	f->ended = 1;
	return 0;
}

int ssmf_scorer_finish(struct ssmf_scorer *sc)
{
	return sc->o.mode == SSMF_SCORE_SEQUENCE ? scorer_seq_flush(sc) : flush_pending(sc);
}

void ssmf_scorer_release(struct ssmf_scorer *sc)
{
	if (sc)
		scorer_seq_free(sc);
}
