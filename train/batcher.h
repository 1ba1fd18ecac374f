/* batcher.h - length-bucketed batches of whole flows, padded to the longest flow of the
 * batch, with per-flow lengths (the mask ssmf_forward takes). */
#ifndef SSMF_TRAIN_BATCHER_H
#define SSMF_TRAIN_BATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "ssm/ssm.h"
#include "train/flowset.h"

struct train_len_key;

struct train_batcher {
	const struct train_flowset *fs;
	const uint32_t *idx; /* (n) the flows this batcher serves (not owned) */
	size_t n;
	int B;                      /* flows per batch */
	uint32_t *order;            /* (n) flowset indices, batch after batch */
	size_t n_batches;           /* ceil(n / B) */
	size_t *start;              /* (n_batches + 1) batch i is order[start[i] .. start[i+1]) */
	struct train_len_key *keys; /* (n) sort scratch: each flow's length beside its index */
	/* the assembled batch */
	struct ssmf_record *rec; /* (B, max_len) */
	int *len;                /* (B) */
	int8_t *label;           /* (B) */
};

int train_batcher_init(struct train_batcher *b, const struct train_flowset *fs, const uint32_t *idx,
                       size_t n, int B, int max_len);
void train_batcher_free(struct train_batcher *b);
/* Training order of one epoch: shuffle, sort pools of 64 batches by length, shuffle the
 * batches. A function of the generator state `rng` only (train_rng_epoch). */
void train_batcher_plan_epoch(struct train_batcher *b, uint64_t rng);
/* Validation order: longest first, fixed. */
void train_batcher_plan_fixed(struct train_batcher *b);
/* Batch i of the current plan. sup_weight > 0 attaches the labels. Returns the packets
 * in it. */
long train_batcher_get(struct train_batcher *b, size_t i, double sup_weight,
                       struct ssmf_batch *out);

#endif
