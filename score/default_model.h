/* default_model.h - the bundled model (models/default.ssmf), compiled in so that
 * `ssmflow score` works without a model file. */
#ifndef SSMF_DEFAULT_MODEL_H
#define SSMF_DEFAULT_MODEL_H

#include <stddef.h>

#include "ssm/ssm.h"

/* Loads the bundled model; NULL with err when this build has none. */
struct ssmf_model *ssmf_default_model_load(char *err, size_t errlen);
/* The same, copying the wanted extra sections (ssmf_checkpoint_load_sections). */
struct ssmf_model *ssmf_default_model_load_sections(struct ssmf_ckpt_section *want, int n_want,
                                                    char *err, size_t errlen);
/* Size of the bundled checkpoint in bytes (0: none). */
size_t ssmf_default_model_size(void);

#endif
