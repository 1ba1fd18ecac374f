/* verdict.h - from scored flows to verdicts: the host level added to the packet level,
 * a threshold calibrated on benign traffic, each flow flagged, the flows ranked, and the
 * evaluation against labels. */
#ifndef SSMF_VERDICT_H
#define SSMF_VERDICT_H

#include <stddef.h>

#include "datasets/labels.h"
#include "score/evaluate.h"
#include "score/hosts.h"
#include "score/scorer.h"

/* The threshold at which at most fpr of the benign flows r[0..n) would be flagged, with
 * their host level (hl: none when its model is NULL or its weight 0) counted as it will
 * be for the flows judged. Returns 0; -1 the host level failed (err says why); -2 no
 * flows to calibrate on (or out of memory). */
int ssmf_calibrate(struct ssmf_flow_score *r, size_t n, const struct ssmf_host_level *hl,
                   double fpr, double *threshold, char *err, size_t errlen);

/* The flows' verdicts: their host level (into *hosts, left empty without a host model or
 * at host weight 0), flagged at threshold (NaN: none), ranked most anomalous first, and
 * the evaluation over the labelled flows into *ev. Returns 0, or -1 with err set. */
int ssmf_judge(struct ssmf_flow_score *r, size_t n, const struct ssmf_host_level *hl,
               double threshold, const struct ssmf_labels *labels, struct ssmf_host_results *hosts,
               struct ssmf_evaluation *ev, char *err, size_t errlen);

#endif
