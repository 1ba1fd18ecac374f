/* sort_index.c - sorting an index array by its keys (sort_index.h). */
#include <stdlib.h>

#include "common/sort_index.h"

struct keyed {
	uint64_t key;
	size_t idx;
};

static int by_key(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The pairs live on the stack for small n, on the heap otherwise. */
int ssmf_sort_index(size_t *idx, uint64_t *keys, size_t n)
{
	if (n < 2)
		return 0;
	struct keyed small[64], *p = n <= 64 ? small : malloc(n * sizeof *p);
	if (!p)
		return -1;
	for (size_t i = 0; i < n; i++)
		p[i] = (struct keyed){keys[i], idx[i]};
	qsort(p, n, sizeof *p, by_key);
	for (size_t i = 0; i < n; i++)
		keys[i] = p[i].key, idx[i] = p[i].idx;
	if (p != small)
		free(p);
	return 0;
}
