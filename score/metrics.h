/* metrics.h - detection quality of scores against labels (1 attack, 0 benign). */
#ifndef SSMF_METRICS_H
#define SSMF_METRICS_H

#include <stddef.h>

struct ssmf_metrics {
	size_t n_pos, n_neg;
	double roc_auc;        /* ties count one half */
	double pr_auc;         /* average precision (step-wise, as scikit-learn) */
	double tpr_at_fpr_1e2; /* highest TPR with FPR <= 1e-2 */
	double tpr_at_fpr_1e3;
	double best_f1, best_f1_threshold;
	/* At the given threshold (score >= threshold is flagged): */
	double threshold;
	size_t tp, fp, tn, fn;
};

/* score[i], label[i] in {0, 1}; n >= 1. Returns -1 without both classes. */
int ssmf_metrics_compute(const double *score, const int *label, size_t n, double threshold,
                         struct ssmf_metrics *m);
/* One operating point: flagging score >= threshold gives these rates. */
struct ssmf_curve_point {
	double threshold, tpr, fpr, precision;
	double tp, fp; /* flows flagged, attack and benign */
};

/* The ROC and PR curves: one point per distinct score, highest threshold first (at most
 * n). *pts is malloc'd. Returns 0, or -1 without both classes or out of memory. */
int ssmf_metrics_curve(const double *score, const int *label, size_t n,
                       struct ssmf_curve_point **pts, size_t *npts);
/* The threshold whose false-positive rate on these benign scores is at most fpr:
 * the smallest value above the (1 - fpr) quantile (flagged means score >= it). */
double ssmf_threshold_for_fpr(const double *benign, size_t n, double fpr);

#endif
