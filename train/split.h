/* split.h - validation split by time: the latest flows (by first packet) validate, the
 * rest train. A flow is one unit: all of it lands on one side. */
#ifndef SSMF_TRAIN_SPLIT_H
#define SSMF_TRAIN_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "train/flowset.h"

struct train_split {
	uint32_t *train; /* indices into the flowset */
	size_t n_train;
	uint32_t *val;
	size_t n_val;
	uint64_t boundary_ns; /* first start time of a validation flow (0 without one) */
};

/* The last floor(fraction * n) flows by (start time, dataset, row) validate (at least one
 * when fraction > 0 and there are 2 flows or more). */
int train_split_by_time(const struct train_flowset *fs, double fraction, struct train_split *s);
/* Every flow of fs on one side: train (to_val 0) or validation (1). */
int train_split_all(const struct train_flowset *fs, int to_val, struct train_split *s);
void train_split_free(struct train_split *s);

#endif
