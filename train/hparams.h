/* hparams.h - hyper-parameters to and from JSON (the checkpoint's META section). */
#ifndef SSMF_TRAIN_HPARAMS_H
#define SSMF_TRAIN_HPARAMS_H

#include <cjson/cJSON.h>

#include "train/train.h"

cJSON *train_hparams_to_json(const struct train_hparams *hp);
/* Every field must be present and of the right type. */
int train_hparams_from_json(const cJSON *j, struct train_hparams *hp, char *err, size_t errlen);

#endif
