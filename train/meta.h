/* meta.h - the model's provenance as JSON (the META section): what data, which
 * hyper-parameters, which software, when, and how training went. */
#ifndef SSMF_TRAIN_META_H
#define SSMF_TRAIN_META_H

#include <cjson/cJSON.h>

#include "train/flowset.h"
#include "train/split.h"
#include "train/state.h"
#include "train/train.h"

#define TRAIN_META_FORMAT  "ssmflow-model-meta"
#define TRAIN_META_VERSION 1

struct train_meta_in {
	const struct train_hparams *hp;
	const char *software, *created, *command_line, *device;
	int threads;
	int processes; /* of a distributed run (train/dist.h); 1 otherwise */
	const struct train_flowset *train_fs, *val_fs; /* val_fs == train_fs: time split */
	const struct train_split *split;
	size_t n_params;
	long total_steps;
	const struct train_tstate *st;
	const cJSON *history;    /* array of per-epoch objects */
	const char *stop_reason; /* NULL while training */
};

/* malloc'd JSON text, NULL when out of memory. */
char *train_meta_build(const struct train_meta_in *in);
/* A double exactly (17 significant digits; null when not finite). */
cJSON *train_json_number(double v);

#endif
