/* state.h - the training state in checkpoint sections beside CONFIG and PARAMS:
 *   META    JSON text: provenance, hyper-parameters, per-epoch history (meta.c)
 *   TSTATE  struct train_tstate: step, data order position, RNG, early-stopping state
 *   OPTIM   AdamW moments, m then v (float, one per parameter)
 *   BEST    parameters of the best validation epoch
 * A model file for scoring carries only META; a training checkpoint carries all four. */
#ifndef SSMF_TRAIN_STATE_H
#define SSMF_TRAIN_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "ssm/ssm.h"
#include "ssm/adamw.h"

#define TRAIN_TSTATE_VERSION 1u

/* Fixed layout (all 8-byte fields), written as is: checkpoints are little-endian. */
struct train_tstate {
	uint64_t version;
	uint64_t done;        /* 1 when training finished */
	int64_t step;         /* optimizer steps taken */
	int64_t epoch;        /* 0-based epoch in progress */
	int64_t batch;        /* next batch of that epoch */
	uint64_t rng;         /* the epoch's generator state (its batch order) */
	uint64_t fingerprint; /* training flows as loaded */
	uint64_t val_fingerprint;
	uint64_t n_params;
	int64_t best_epoch; /* 1-based, 0 = none yet */
	int64_t bad_epochs; /* epochs since the best */
	double best_val;
	double epoch_loss_sum; /* sum of loss x predicted packets, this epoch so far */
	double epoch_pred;     /* predicted packets, this epoch so far */
};
_Static_assert(sizeof(struct train_tstate) == 14 * 8, "no padding in the stored state");

/* A resumable checkpoint: model, state, moments, best parameters and metadata. */
int train_state_save(const char *path, const struct ssmf_model *m, const struct train_tstate *st,
                     const struct ssmf_adamw *opt, const ssmf_real *best, const char *meta,
                     char *err, size_t errlen);
/* Loads one; fills st, the moments (opt must be initialised for the loaded model by the
 * caller afterwards: see train_state_restore), best (malloc'd) and meta (malloc'd text). */
struct train_loaded {
	struct ssmf_model *m;
	struct train_tstate st;
	float *moments; /* (2 n_params) m then v */
	ssmf_real *best;
	char *meta;
};
int train_state_load(const char *path, struct train_loaded *out, char *err, size_t errlen);
void train_loaded_free(struct train_loaded *l); /* does not free l->m */

/* A model file: parameters (given) + metadata. */
int train_model_save(const char *path, const struct ssmf_model *m, const char *meta, char *err,
                     size_t errlen);

#endif
