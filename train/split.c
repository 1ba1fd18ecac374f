/* split.c - split by time (never by packet: a flow's packets all go one way). */
#include <stdlib.h>
#include <string.h>

#include "train/split.h"

static const struct train_flow *g_flows; /* qsort has no user pointer in C11 */

static int by_time(const void *a, const void *b)
{
	const struct train_flow *x = &g_flows[*(const uint32_t *)a];
	const struct train_flow *y = &g_flows[*(const uint32_t *)b];
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
	if (!all)
		return -1;
	for (size_t i = 0; i < n; i++)
		all[i] = (uint32_t)i;
	g_flows = fs->flows;
	qsort(all, n, sizeof *all, by_time);
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
