/* Detection metrics on a hand-computed example (worked out in the comments). */
#include <math.h>

#include "../unit/check.h"
#include "score/metrics.h"

#define NEAR(a, b) CHECK(fabs((a) - (b)) < 1e-9)

int main(void)
{
	/* Sorted by score: labels 1 1 0 1 1 1 0 0 1 0 (6 attacks, 4 benign). */
	const double s[] = {0.9, 0.8, 0.7, 0.6, 0.55, 0.54, 0.53, 0.52, 0.51, 0.505};
	const int y[] = {1, 1, 0, 1, 1, 1, 0, 0, 1, 0};
	struct ssmf_metrics m;
	CHECK_EQ(ssmf_metrics_compute(s, y, 10, 0.54, &m), 0);
	/* ROC-AUC: attacks above each benign flow: 2 + 5 + 5 + 6 = 18 of 6 * 4 pairs. */
	NEAR(m.roc_auc, 18.0 / 24.0);
	/* Average precision: precision at each attack: 1, 1, 3/4, 4/5, 5/6, 6/9. */
	NEAR(m.pr_auc, (1 + 1 + 0.75 + 0.8 + 5.0 / 6 + 6.0 / 9) / 6);
	/* FPR 0 holds for the top two flows: TPR 2/6. */
	NEAR(m.tpr_at_fpr_1e2, 2.0 / 6);
	NEAR(m.tpr_at_fpr_1e3, 2.0 / 6);
	/* Best F1 with the top six flagged: TP 5, FP 1, FN 1: 10 / 12. */
	NEAR(m.best_f1, 10.0 / 12);
	NEAR(m.best_f1_threshold, 0.54);
	CHECK_EQ(m.tp, 5);
	CHECK_EQ(m.fp, 1);
	CHECK_EQ(m.tn, 3);
	CHECK_EQ(m.fn, 1);

	/* Ties count one half: one attack and one benign flow with the same score. */
	const double t[] = {1, 1};
	const int ty[] = {1, 0};
	CHECK_EQ(ssmf_metrics_compute(t, ty, 2, 2, &m), 0);
	NEAR(m.roc_auc, 0.5);
	/* One class only: no metrics. */
	const int only[] = {1, 1};
	CHECK(ssmf_metrics_compute(t, only, 2, 2, &m) < 0);

	/* Calibration: 1000 benign scores 0..999; FPR 1e-2 flags at most 10 of them. */
	double b[1000];
	for (int i = 0; i < 1000; i++)
		b[i] = i;
	double thr = ssmf_threshold_for_fpr(b, 1000, 1e-2);
	int flagged = 0;
	for (int i = 0; i < 1000; i++)
		flagged += b[i] >= thr;
	CHECK_EQ(flagged, 10);
	/* With ties at the cut, fewer may be flagged, never more. */
	for (int i = 985; i < 1000; i++)
		b[i] = 985;
	thr = ssmf_threshold_for_fpr(b, 1000, 1e-2);
	flagged = 0;
	for (int i = 0; i < 1000; i++)
		flagged += b[i] >= thr;
	CHECK(flagged <= 10);
	return check_report("test_metrics");
}
