/* hostset.h - the host level's training data: every endpoint's sequence of flow events
 * (features/host_events.h), lowered into engine rows, held as a train_flowset so the
 * training loop, batcher, split and checkpoints serve both levels. */
#ifndef SSMF_TRAIN_HOSTSET_H
#define SSMF_TRAIN_HOSTSET_H

#include "features/host_profile.h"
#include "train/flowset.h"

/* Builds the host sequences of each dataset (hosts do not span datasets: each is its own
 * network and time line). A sequence is its start row and events, cut into pieces of
 * max_len rows; pieces of fewer than 2 rows are left out. Returns 0 or a negative
 * enum train_rc. */
int train_hostset_load(struct train_flowset *fs, const char *const *paths, int n, int max_len,
                       char *err, size_t errlen);

/* Fits the host level's activity profile (features/host_profile.h) to every event of the
 * datasets' host sequences. Returns 0 or a negative enum train_rc. */
int train_host_profile_fit(const char *const *paths, int n, struct ssmf_host_profile *p, char *err,
                           size_t errlen);

#endif
