/* evaluate.h - detection quality of a scoring run against its labels: over every
 * labelled flow (one-packet flows included: the host level scores them), over the flows
 * with a predicted packet (what the packet level alone can judge), and per input. */
#ifndef SSMF_EVALUATE_H
#define SSMF_EVALUATE_H

#include <stddef.h>

#include "datasets/labels.h"
#include "score/metrics.h"
#include "score/scorer.h"

struct ssmf_evaluation {
	int have_all, have_multi;  /* both classes among those flows */
	struct ssmf_metrics all;   /* every labelled flow */
	struct ssmf_metrics multi; /* labelled flows with >= 2 packets */
	double mean_input_auc;     /* over inputs with attack flows: each one's attack flows
	                              against every benign flow of the run; NaN if none */
	size_t n_inputs_auc;
};

/* threshold NaN: the metrics at the best F1 threshold. Returns 0, -1 out of memory. */
int ssmf_evaluate(const struct ssmf_flow_score *r, size_t n, const struct ssmf_labels *labels,
                  double threshold, struct ssmf_evaluation *ev);
/* The ROC and PR curves over every labelled flow (ev->all's flows): metrics.h's
 * ssmf_metrics_curve. */
int ssmf_evaluation_curve(const struct ssmf_flow_score *r, size_t n,
                          const struct ssmf_labels *labels, struct ssmf_curve_point **pts,
                          size_t *npts);
void ssmf_write_evaluation(FILE *out, const struct ssmf_evaluation *ev);

#endif
