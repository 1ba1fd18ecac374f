/* model_levels.h - a model file's two levels: the packet level, and the host level stored
 * in its HOST section (train/levels.h), which older model files lack. */
#ifndef SSMF_MODEL_LEVELS_H
#define SSMF_MODEL_LEVELS_H

#include <stddef.h>

#include "features/host_profile.h"
#include "ssm/evidence.h"
#include "ssm/ssm.h"

/* path NULL: the bundled model. *host is NULL when the file has no host level; profile
 * (NULL-able) receives the host level's activity profile, its `events` 0 when the file has
 * none (files written before it); evidence (NULL-able) the packet level's evidence
 * baseline, its `flows` 0 when the file has none. Returns 0, or -1 with err set. */
int ssmf_model_levels_load(const char *path, struct ssmf_model **packet, struct ssmf_model **host,
                           struct ssmf_host_profile *profile, struct ssmf_evidence *evidence,
                           char *err, size_t errlen);

#endif
