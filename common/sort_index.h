/* sort_index.h - an index array sorted by a key of each index, portably (qsort_r's argument
 * order differs between glibc and the BSDs, and a file-scope context is global state). */
#ifndef SSMF_SORT_INDEX_H
#define SSMF_SORT_INDEX_H

#include <stddef.h>
#include <stdint.h>

/* Sorts idx[0..n) by keys[k] (keys[k] the key of idx[k]), ties by index: a total order, so
 * the result is the same on every C library. keys is reordered with idx. 0, or -1 when out
 * of memory (idx and keys unchanged). */
int ssmf_sort_index(size_t *idx, uint64_t *keys, size_t n);

#endif
