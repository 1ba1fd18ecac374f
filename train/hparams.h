/* hparams.h - the hyper-parameters as one table, and their JSON form (the checkpoint's
 * META section). */
#ifndef SSMF_TRAIN_HPARAMS_H
#define SSMF_TRAIN_HPARAMS_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>

#include "train/train.h"

/* One row per hyper-parameter: its JSON key (the field of struct train_hparams, or of its
 * model config), its option (long and short name), type (I32, I64, U64, F64, or FLAG: an
 * int32_t set by a bare option), field, the bounds [lo, hi] (open_lo, open_hi: that bound
 * excluded) that train_hparams_validate holds it to, what it is and a note on special
 * values (or NULL). The JSON and the
 * options of 'ssmflow train' come from it, in this order; the defaults are set by
 * train_hparams_default. */
#define TRAIN_HPARAMS(X)                                                                           \
	X(d_model, "d-model", 0, I32, model.d_model, 1, INFINITY, 0, 0, "model width", NULL)       \
	X(n_layer, "n-layer", 0, I32, model.n_layer, 1, INFINITY, 0, 0, "layers", NULL)            \
	X(d_state, "d-state", 0, I32, model.d_state, 1, INFINITY, 0, 0, "state size per head",     \
	  NULL)                                                                                    \
	X(expand, "expand", 0, I32, model.expand, 1, INFINITY, 0, 0,                               \
	  "inner width as a multiple of --d-model", NULL)                                          \
	X(headdim, "headdim", 0, I32, model.headdim, 1, INFINITY, 0, 0, "width of a head", NULL)   \
	X(seed, "seed", 0, U64, seed, 0, 0, 0, 0, "data order and initialisation", NULL)           \
	X(epochs, "epochs", 0, I32, epochs, 1, INFINITY, 0, 0,                                     \
	  "at most N passes over the training flows", NULL)                                        \
	X(max_steps, "max-steps", 0, I64, max_steps, 0, INFINITY, 0, 0,                            \
	  "stop after N optimizer steps", "0: no limit")                                           \
	X(batch_size, "batch-size", 'b', I32, batch_size, 1, 65536, 0, 0, "flows per batch", NULL) \
	X(max_len, "max-len", 0, I32, max_len, 2, 65536, 0, 0,                                     \
	  "packets per flow the model sees; longer flows are cut", NULL)                           \
	X(lr, "lr", 0, F64, lr, 0, INFINITY, 1, 0, "peak learning rate", NULL)                     \
	X(min_lr_ratio, "min-lr-ratio", 0, F64, min_lr_ratio, 0, 1, 0, 0,                          \
	  "cosine floor as a fraction of --lr", NULL)                                              \
	X(warmup, "warmup", 0, I32, warmup, 0, INFINITY, 0, 0, "linear warmup steps", NULL)        \
	X(weight_decay, "weight-decay", 0, F64, weight_decay, 0, INFINITY, 0, 0,                   \
	  "AdamW weight decay on matrices", NULL)                                                  \
	X(beta1, "beta1", 0, F64, beta1, 0, 1, 0, 1, "AdamW first moment decay", NULL)             \
	X(beta2, "beta2", 0, F64, beta2, 0, 1, 0, 1, "AdamW second moment decay", NULL)            \
	X(eps, "eps", 0, F64, eps, 0, INFINITY, 1, 0, "AdamW epsilon", NULL)                       \
	X(grad_clip, "grad-clip", 0, F64, grad_clip, 0, INFINITY, 0, 0,                            \
	  "global gradient norm limit", "0: off")                                                  \
	X(patience, "patience", 0, I32, patience, 0, INFINITY, 0, 0,                               \
	  "stop after N epochs without validation gain", "0: off")                                 \
	X(min_delta, "min-delta", 0, F64, min_delta, 0, INFINITY, 0, 0,                            \
	  "smallest validation loss drop that counts as gain", NULL)                               \
	X(val_fraction, "val-fraction", 0, F64, val_fraction, 0, 1, 0, 1,                          \
	  "latest flows by start time used for validation", NULL)                                  \
	X(supervised, "supervised", 0, FLAG, supervised, 0, 1, 0, 0,                               \
	  "also train the supervised head on labelled flows", NULL)                                \
	X(sup_weight, "sup-weight", 0, F64, sup_weight, 0, INFINITY, 0, 0,                         \
	  "weight of the supervised loss", NULL)                                                   \
	X(checkpoint_every, "checkpoint-every", 0, I32, checkpoint_every, 0, INFINITY, 0, 0,       \
	  "steps between checkpoints", "0: epoch ends only")

cJSON *train_hparams_to_json(const struct train_hparams *hp);
/* Every field must be present and of the right type. */
int train_hparams_from_json(const cJSON *j, struct train_hparams *hp, char *err, size_t errlen);

#endif
