#include "score/metrics.h"

#include <math.h>
#include <stdlib.h>

struct pair {
	double s;
	int y;
};

static int by_score_desc(const void *a, const void *b)
{
	double x = ((const struct pair *)a)->s, y = ((const struct pair *)b)->s;
	return x < y ? 1 : x > y ? -1 : 0;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int ssmf_metrics_curve(const double *score, const int *label, size_t n,
                       struct ssmf_curve_point **pts, size_t *npts)
{
	*pts = NULL;
	*npts = 0;
	struct pair *p = malloc((n ? n : 1) * sizeof *p);
	struct ssmf_curve_point *c = malloc((n ? n : 1) * sizeof *c);
	size_t pos = 0;
	if (!p || !c) {
		free(p);
		free(c);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		p[i].s = score[i];
		p[i].y = label[i] ? 1 : 0;
		pos += (size_t)p[i].y;
	}
	if (!pos || pos == n) {
		free(p);
		free(c);
		return -1;
	}
	qsort(p, n, sizeof *p, by_score_desc);
	/* Walk thresholds from high to low, one group of tied scores at a time. */
	double P = (double)pos, N = (double)(n - pos), tp = 0, fp = 0;
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && p[j].s == p[i].s) {
			tp += p[j].y;
			fp += 1 - p[j].y;
			j++;
		}
		c[k++] = (struct ssmf_curve_point){.threshold = p[i].s,
		                                   .tpr = tp / P,
		                                   .fpr = fp / N,
		                                   .precision = tp / (tp + fp),
		                                   .tp = tp,
		                                   .fp = fp};
		i = j;
	}
	free(p);
	*pts = c;
	*npts = k;
	return 0;
}

int ssmf_metrics_compute(const double *score, const int *label, size_t n, double threshold,
                         struct ssmf_metrics *m)
{
	*m = (struct ssmf_metrics){0};
	m->threshold = threshold;
	for (size_t i = 0; i < n; i++) {
		m->n_pos += (size_t)(label[i] != 0);
		if (score[i] >= threshold)
			label[i] ? m->tp++ : m->fp++;
		else
			label[i] ? m->fn++ : m->tn++;
	}
	m->n_neg = n - m->n_pos;
	struct ssmf_curve_point *c;
	size_t nc;
	if (!m->n_pos || !m->n_neg || ssmf_metrics_curve(score, label, n, &c, &nc) != 0)
		return -1;
	double P = (double)m->n_pos, auc = 0, ap = 0, prev_tpr = 0, prev_fpr = 0;
	m->best_f1 = 0;
	m->best_f1_threshold = INFINITY;
	for (size_t i = 0; i < nc; i++) {
		double tpr = c[i].tpr, fpr = c[i].fpr, tp = c[i].tp;
		auc += (fpr - prev_fpr) * (tpr + prev_tpr) / 2; /* trapezoid: ties count 1/2 */
		ap += (tpr - prev_tpr) * c[i].precision;
		if (fpr <= 1e-2 && tpr > m->tpr_at_fpr_1e2)
			m->tpr_at_fpr_1e2 = tpr;
		if (fpr <= 1e-3 && tpr > m->tpr_at_fpr_1e3)
			m->tpr_at_fpr_1e3 = tpr;
		double f1 = 2 * tp / (2 * tp + c[i].fp + (P - tp));
		if (f1 > m->best_f1) {
			m->best_f1 = f1;
			m->best_f1_threshold = c[i].threshold;
		}
		prev_tpr = tpr;
		prev_fpr = fpr;
	}
	m->roc_auc = auc;
	m->pr_auc = ap;
	free(c);
	return 0;
}

double ssmf_threshold_for_fpr(const double *benign, size_t n, double fpr)
{
	if (!n)
		return INFINITY;
	double *s = malloc(n * sizeof *s);
	if (!s)
		return INFINITY;
	for (size_t i = 0; i < n; i++)
		s[i] = benign[i];
	qsort(s, n, sizeof *s, dbl_cmp);
	/* At most floor(fpr * n) benign flows may be flagged (score >= threshold). */
	size_t allowed = (size_t)floor(fpr * (double)n);
	double t;
	if (allowed == 0) {
		t = nextafter(s[n - 1], INFINITY);
	} else {
		size_t k = n - allowed; /* s[k..n-1] may be flagged, s[k-1] must not */
		t = s[k] > s[k - 1] ? s[k] : nextafter(s[k - 1], INFINITY);
		/* ties at s[k-1] would be flagged too with t = s[k]: move above them */
	}
	free(s);
	return t;
}
