/* flowset.h - the flows training sees, held in memory: each flow's first --max-len
 * records, its start time, its label, and where it came from. */
#ifndef SSMF_TRAIN_FLOWSET_H
#define SSMF_TRAIN_FLOWSET_H

#include <stddef.h>
#include <stdint.h>

#include "features/ssmf_record.h"

struct ssmf_dataset;

struct train_flow {
	uint64_t first_ts_ns;
	uint64_t rec_off; /* first record in train_flowset.rec */
	int32_t len;      /* records kept: min(packets stored, max_len), >= 2 */
	int32_t label;    /* -1 unknown, 0 benign, 1 attack */
	uint32_t dataset; /* index into train_flowset.sources */
	uint32_t row;     /* row of the flow in that dataset's /flows */
};

/* One dataset file, and what it contributed. */
struct train_source {
	char *path;
	uint64_t flows, packets; /* rows of /flows and /packets */
	uint64_t used_flows;     /* flows with >= 2 packets */
	uint64_t labelled;       /* used flows with a label */
	char *inputs_json;       /* its captures as a JSON array: name, sha256, packets */
};

struct train_flowset {
	struct train_flow *flows;
	size_t n;
	struct ssmf_record *rec;
	size_t n_rec;
	struct train_source *src;
	size_t n_src;
	uint64_t fingerprint; /* FNV-1a over what was loaded: resume checks it */
};

/* Loads every dataset in paths. Flows with fewer than 2 packets are left out: they have
 * no packet to predict. A file that cannot be read, or has no flows, is an error naming
 * it. Returns 0, or a negative enum train_rc. */
int train_flowset_load(struct train_flowset *fs, const char *const *paths, int n, int max_len,
                       char *err, size_t errlen);
void train_flowset_free(struct train_flowset *fs);

/* Shared by the loaders (flowset.c, hostset.c): FNV-1a over bytes, for fingerprints; grows
 * *p to hold `need` elements (doubling), 0 or -1 out of memory; a dataset's captures as a
 * JSON array (name, sha256, packets), cJSON_free'd by the caller. */
uint64_t train_fnv(uint64_t h, const void *p, size_t n);
/* An empty set for n datasets, its fingerprint started from `basis` (each level its own, so
 * a checkpoint of one level never resumes on the other). 0, or a negative enum train_rc. */
int train_flowset_init(struct train_flowset *fs, int n, uint64_t basis, char *err, size_t errlen);
int train_grow(void **p, size_t *cap, size_t need, size_t elem);
struct ssmf_dataset;
char *train_inputs_json(const struct ssmf_dataset *ds);

/* Maps the raw labels of a dataset's flows (index into /label_names, -1 none) to 0 benign /
 * 1 attack / -1 unknown; benign is ssmf_label_is_benign (datasets/labels.h). */
int train_labels_map(const struct ssmf_dataset *ds, const int32_t *raw, size_t n, int32_t *out,
                     char *err, size_t errlen);

#endif
