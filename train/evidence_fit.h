/* evidence_fit.h - fitting the packet level's evidence baseline (ssm/evidence.h) to the
 * flows training held out for validation. */
#ifndef SSMF_TRAIN_EVIDENCE_FIT_H
#define SSMF_TRAIN_EVIDENCE_FIT_H

#include <stddef.h>

#include "ssm/evidence.h"
#include "train/train.h"

/* Scores the validation flows of o (its --val datasets, else the time split's last
 * val_fraction of its training datasets; all training flows when that is empty) with the
 * trained packet model in model_path and fits *e. Fewer than SSMF_EVIDENCE_MIN_FLOWS flows
 * with a prediction, or no spread among them, fit nothing: e->flows is 0. Returns 0, or a
 * TRAIN_E_* code < 0 with err set. */
int train_evidence_fit(const struct train_opts *o, const char *model_path, struct ssmf_evidence *e,
                       char *err, size_t errlen);

#endif
