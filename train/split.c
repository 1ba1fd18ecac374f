/* split.c - split by time (never by packet: a flow's packets all go one way). */
#include <stdlib.h>
#include <string.h>

#include "train/split.h"

/* A flow beside its index: what the time sort compares (qsort has no user pointer in C11). */
struct time_key {
	const struct train_flow *f;
	uint32_t idx;
};

static int by_time(const void *a, const void *b)
{
	const struct train_flow *x = ((const struct time_key *)a)->f;
	const struct train_flow *y = ((const struct time_key *)b)->f;
	if (x->first_ts_ns != y->first_ts_ns)
		return x->first_ts_ns < y->first_ts_ns ? -1 : 1;
	if (x->dataset != y->dataset)
		return x->dataset < y->dataset ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

int train_split_by_time(const struct train_flowset *fs, double fraction, struct train_split *s)
{
	memset(s, 0, sizeof *s);
	size_t n = fs->n;
	uint32_t *all = malloc((n ? n : 1) * sizeof *all);
	struct time_key *keys = malloc((n ? n : 1) * sizeof *keys);
	if (!all || !keys) {
		free(all);
		free(keys);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		keys[i] = (struct time_key){&fs->flows[i], (uint32_t)i};
	qsort(keys, n, sizeof *keys, by_time);
	for (size_t i = 0; i < n; i++)
		all[i] = keys[i].idx;
	free(keys);
	size_t n_val = (size_t)(fraction * (double)n);
	if (fraction > 0 && n_val == 0 && n >= 2)
		n_val = 1;
	if (n_val >= n)
		n_val = n ? n - 1 : 0;
	s->train = all;
	s->n_train = n - n_val;
	s->val = malloc((n_val ? n_val : 1) * sizeof *s->val);
	if (!s->val) {
		free(all);
		s->train = NULL;
		return -1;
	}
	memcpy(s->val, all + s->n_train, n_val * sizeof *all);
	s->n_val = n_val;
	s->boundary_ns = n_val ? fs->flows[s->val[0]].first_ts_ns : 0;
	return 0;
}

int train_split_all(const struct train_flowset *fs, int to_val, struct train_split *s)
{
	memset(s, 0, sizeof *s);
	uint32_t *all = malloc((fs->n ? fs->n : 1) * sizeof *all);
	if (!all)
		return -1;
	for (size_t i = 0; i < fs->n; i++)
		all[i] = (uint32_t)i;
	if (to_val) {
		s->val = all;
		s->n_val = fs->n;
	} else {
		s->train = all;
		s->n_train = fs->n;
	}
	return 0;
}

void train_split_free(struct train_split *s)
{
	free(s->train);
	free(s->val);
	memset(s, 0, sizeof *s);
}
