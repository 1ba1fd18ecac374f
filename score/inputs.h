/* inputs.h - what a scorer reads: captures, through the flow table wiring extract shares
 * (features/capture.h), or datasets made by extract. */
#ifndef SSMF_SCORE_INPUTS_H
#define SSMF_SCORE_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/labels.h"
#include "features/capture.h"
#include "score/report.h"
#include "score/scorer.h"

/* Whether path is an HDF5 file (a dataset) rather than a capture; "-" is a capture. */
int ssmf_is_dataset(const char *path);

struct ssmf_score_observer {
	void *user;
	void (*warn)(void *user, const char *msg);
	int (*should_stop)(void *user);
	void (*progress)(void *user, uint64_t packets, uint64_t bytes_read, uint64_t flows);
};

/* Captures, in time order, into sc in its mode (sequence: records wait in the flow table,
 * a chunk at a time; step: each record as it comes), then what sc still buffers. fp: the
 * flow table's settings (its max_packets and per-flow state bytes follow the scorer).
 * Returns as ssmf_capture_run; res is to be freed in every case. */
int ssmf_scorer_captures(struct ssmf_scorer *sc, const char *const *paths, size_t n,
                         const char *filter, const struct ssmf_flow_params *fp,
                         const struct ssmf_score_observer *obs, struct ssmf_capture_result *res);

enum {
	SSMF_SCORE_E_OPEN = -1,   /* the dataset could not be opened: err says why */
	SSMF_SCORE_E_SCORE = -2,  /* scoring failed or was stopped: ssmf_scorer_error */
	SSMF_SCORE_E_MEMORY = -3, /* out of memory for the inputs' provenance: err says so */
};

/* Dataset number `index` of the run into sc: its flows' source and input are index and,
 * unless labels has sources of its own, the labels the dataset carries (extract --labels)
 * become ids of labels' name table. Adds to *flows_cut the flows extract cut at
 * --max-packets, and to *keep (NULL-able) the dataset's own inputs' provenance, read
 * through path, marked calibration. Returns 0 or a code above. */
int ssmf_scorer_dataset_file(struct ssmf_scorer *sc, const char *path, uint32_t index,
                             struct ssmf_labels *labels, uint64_t *flows_cut,
                             struct ssmf_report_inputs *keep, int calibration, char *err,
                             size_t errlen);

#endif
