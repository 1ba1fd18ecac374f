/* batcher.c - epoch plans and batch assembly.
 *
 * Length bucketing: flows of a batch are padded to the longest, so mixing a 2-packet DNS
 * flow with a 256-packet download wastes most of the batch. Sorting the whole epoch by
 * length would make every epoch see the same batches; sorting pools of 64 batches after a
 * shuffle keeps padding low and the batches random. */
#include <stdlib.h>
#include <string.h>

#include "train/batcher.h"
#include "train/rng.h"

#define POOL_BATCHES 64

/* What the length sort compares, beside the index it reorders (qsort has no user pointer
 * in C11, and a file-scope one would be shared state). */
struct train_len_key {
	int32_t len;
	uint32_t idx;
};

/* Batches of B consecutive flows, the partial one last. */
static void regular_starts(struct train_batcher *b)
{
	for (size_t i = 0; i < b->n_batches; i++)
		b->start[i] = i * (size_t)b->B;
	b->start[b->n_batches] = b->n;
}

int train_batcher_init(struct train_batcher *b, const struct train_flowset *fs, const uint32_t *idx,
                       size_t n, int B, int max_len)
{
	memset(b, 0, sizeof *b);
	b->fs = fs;
	b->idx = idx;
	b->n = n;
	b->B = B;
	b->n_batches = (n + (size_t)B - 1) / (size_t)B;
	b->order = malloc((n ? n : 1) * sizeof *b->order);
	b->rec = calloc((size_t)B * (size_t)max_len, sizeof *b->rec);
	b->len = calloc((size_t)B, sizeof *b->len);
	b->label = calloc((size_t)B, sizeof *b->label);
	b->start = malloc((b->n_batches + 1) * sizeof *b->start);
	b->keys = malloc((n ? n : 1) * sizeof *b->keys);
	if (!b->order || !b->rec || !b->len || !b->label || !b->start || !b->keys) {
		train_batcher_free(b);
		return -1;
	}
	memcpy(b->order, idx, n * sizeof *idx);
	regular_starts(b);
	return 0;
}

void train_batcher_free(struct train_batcher *b)
{
	free(b->order);
	free(b->rec);
	free(b->len);
	free(b->label);
	free(b->start);
	free(b->keys);
	memset(b, 0, sizeof *b);
}

/* Longest first; ties by flowset index, so the order is total and qsort's instability
 * cannot show. */
static int by_len_desc(const void *a, const void *b)
{
	const struct train_len_key *x = a, *y = b;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorts the n flowset indices at order by length, longest first. */
static void sort_by_len(struct train_batcher *b, uint32_t *order, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b->keys[i] = (struct train_len_key){b->fs->flows[order[i]].len, order[i]};
	qsort(b->keys, n, sizeof *b->keys, by_len_desc);
	for (size_t i = 0; i < n; i++)
		order[i] = b->keys[i].idx;
}

static void shuffle_u32(uint32_t *a, size_t n, uint64_t *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)train_rng_below(rng, i);
		uint32_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

void train_batcher_plan_epoch(struct train_batcher *b, uint64_t rng)
{
	memcpy(b->order, b->idx, b->n * sizeof *b->order);
	shuffle_u32(b->order, b->n, &rng);
	size_t pool = (size_t)b->B * POOL_BATCHES;
	for (size_t p = 0; p < b->n; p += pool)
		sort_by_len(b, b->order + p, b->n - p < pool ? b->n - p : pool);
	/* shuffle whole batches; the last (maybe partial) batch moves as a unit too */
	size_t nb = b->n_batches;
	uint32_t *perm = malloc((nb ? nb : 1) * sizeof *perm);
	uint32_t *tmp = malloc((b->n ? b->n : 1) * sizeof *tmp);
	if (!perm || !tmp) {
		/* keep the pooled order: still a valid (deterministic) epoch */
		free(perm);
		free(tmp);
		regular_starts(b);
		return;
	}
	for (size_t i = 0; i < nb; i++)
		perm[i] = (uint32_t)i;
	shuffle_u32(perm, nb, &rng);
	size_t at = 0;
	for (size_t i = 0; i < nb; i++) {
		size_t s = (size_t)perm[i] * (size_t)b->B;
		size_t e = s + (size_t)b->B < b->n ? s + (size_t)b->B : b->n;
		memcpy(tmp + at, b->order + s, (e - s) * sizeof *tmp);
		b->start[i] = at;
		at += e - s;
	}
	b->start[nb] = at;
	memcpy(b->order, tmp, b->n * sizeof *tmp);
	free(perm);
	free(tmp);
}

void train_batcher_plan_fixed(struct train_batcher *b)
{
	memcpy(b->order, b->idx, b->n * sizeof *b->order);
	sort_by_len(b, b->order, b->n);
	regular_starts(b);
}

long train_batcher_get(struct train_batcher *b, size_t i, double sup_weight, struct ssmf_batch *out)
{
	size_t s = b->start[i], e = b->start[i + 1];
	int n = (int)(e - s), T = 0;
	for (int k = 0; k < n; k++)
		if (b->fs->flows[b->order[s + (size_t)k]].len > T)
			T = b->fs->flows[b->order[s + (size_t)k]].len;
	long packets = 0;
	for (int k = 0; k < n; k++) {
		const struct train_flow *f = &b->fs->flows[b->order[s + (size_t)k]];
		struct ssmf_record *row = b->rec + (size_t)k * (size_t)T;
		memcpy(row, b->fs->rec + f->rec_off, (size_t)f->len * sizeof *row);
		/* padding is ignored by the model; zero it so nothing stale is ever read */
		memset(row + f->len, 0, (size_t)(T - f->len) * sizeof *row);
		b->len[k] = f->len;
		b->label[k] = (int8_t)f->label;
		packets += f->len;
	}
	out->rec = b->rec;
	out->len = b->len;
	out->label = sup_weight > 0 ? b->label : NULL;
	out->B = n;
	out->T = T;
	out->sup_weight = sup_weight;
	out->state = NULL; /* every flow from its start */
	return packets;
}
