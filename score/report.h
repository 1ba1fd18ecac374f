/* report.h - an analyst's report of one scoring run (score --report FILE.html): one
 * self-contained HTML page (inline CSS, SVG and a little JS; nothing fetched) with the
 * inputs and their provenance, the model, threshold and counts, the score histogram, a
 * timeline of the flows, the top flows with their per-component breakdown and a strip of
 * their packets, the host table and, with labels, the ROC and PR curves and the confusion
 * matrix. The page holds the top flows and aggregates, never every flow or packet: its size
 * follows the number of top flows, not the input. Elements the tests read carry ids and
 * data-* attributes (documented in ssmflow-score(1)). */
#ifndef SSMF_REPORT_H
#define SSMF_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/labels.h"
#include "pcapio/provenance.h"
#include "score/evaluate.h"
#include "score/hosts.h"
#include "score/scorer.h"

/* One input of the run: a copy of its provenance (pcapio/provenance.h). */
struct ssmf_report_input {
	struct ssmf_input_info info;
	char *via;       /* the dataset it was read through, or NULL (a capture) */
	int calibration; /* a --calibrate input */
};

struct ssmf_report_inputs {
	struct ssmf_report_input *v;
	size_t n;
};

/* Appends a copy of in. 0, or -1 out of memory. */
int ssmf_report_add_input(struct ssmf_report_inputs *l, const struct ssmf_input_info *in,
                          const char *via, int calibration);
void ssmf_report_inputs_free(struct ssmf_report_inputs *l);

struct ssmf_report_run {
	const char *version;        /* ssmflow's */
	const char *model;          /* the -m path, NULL for the bundled model */
	const char *threshold_from; /* "--threshold", "--calibrate" or NULL (none) */
	double threshold, fpr;      /* NaN: no threshold; fpr: --calibrate's */
	double host_weight;
	const char *mode; /* "sequence" or "step" */
	size_t top;       /* flows in the table and the packet strips */
	uint64_t packets; /* packets scored */
};

/* Writes the page to path (a temporary name, renamed when complete). r[0..n) are sorted
 * by score (output.h); each top flow's packets are drawn when it has them (the scorer's
 * per_packet). ev: NULL without labels to compare. 0, or -1 with "PATH: reason" in err. */
int ssmf_write_report(const char *path, const struct ssmf_report_run *run,
                      const struct ssmf_report_inputs *inputs, const struct ssmf_flow_score *r,
                      size_t n, const struct ssmf_host_results *hosts,
                      const struct ssmf_labels *labels, const struct ssmf_evaluation *ev, char *err,
                      size_t errlen);

#endif
