#include "score/verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "score/metrics.h"
#include "score/output.h"

int ssmf_calibrate(struct ssmf_flow_score *r, size_t n, const struct ssmf_host_level *hl,
                   double fpr, double *threshold, char *err, size_t errlen)
{
	*threshold = NAN;
	if (hl->model && hl->weight > 0) {
		struct ssmf_host_results h;
		if (ssmf_hosts_score(hl, r, n, &h, err, errlen) < 0)
			return -1;
		ssmf_host_results_free(&h);
	}
	double *s = malloc((n ? n : 1) * sizeof *s);
	for (size_t i = 0; s && i < n; i++)
		s[i] = r[i].score;
	*threshold = s && n ? ssmf_threshold_for_fpr(s, n, fpr) : NAN;
	free(s);
	return isfinite(*threshold) ? 0 : -2;
}

int ssmf_judge(struct ssmf_flow_score *r, size_t n, const struct ssmf_host_level *hl,
               double threshold, const struct ssmf_labels *labels, struct ssmf_host_results *hosts,
               struct ssmf_evaluation *ev, char *err, size_t errlen)
{
	char why[512];
	if (hl->model && hl->weight > 0 && ssmf_hosts_score(hl, r, n, hosts, why, sizeof why) < 0) {
		snprintf(err, errlen, "host level: %s", why);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		r[i].flagged = isfinite(threshold) && r[i].score >= threshold;
	ssmf_scores_sort(r, n);
	if (ssmf_evaluate(r, n, labels, threshold, ev) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
