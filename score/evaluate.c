/* evaluate.c - detection quality against labels (evaluate.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "score/evaluate.h"
#include "score/output.h"

static int metrics_at(const double *s, const int *y, size_t n, double threshold,
                      struct ssmf_metrics *m)
{
	if (!n || ssmf_metrics_compute(s, y, n, threshold, m) != 0)
		return 0;
	if (!isfinite(threshold)) /* no threshold given: report at the best F1 */
		ssmf_metrics_compute(s, y, n, m->best_f1_threshold, m);
	return 1;
}

/* The class of a flow for evaluation: -1 unlabelled, 1 attack, 0 benign. */
static int flow_class(const struct ssmf_flow_score *r, const struct ssmf_labels *labels)
{
	if (r->s.label < 0)
		return -1;
	return !ssmf_label_is_benign(ssmf_labels_name(labels, r->s.label));
}

int ssmf_evaluate(const struct ssmf_flow_score *r, size_t n, const struct ssmf_labels *labels,
                  double threshold, struct ssmf_evaluation *ev)
{
	ev->have_all = ev->have_multi = 0;
	ev->mean_input_auc = NAN;
	ev->n_inputs_auc = 0;
	size_t m = n ? n : 1;
	double *s = malloc(m * sizeof *s), *ms = malloc(m * sizeof *ms);
	int *y = malloc(m * sizeof *y), *my = malloc(m * sizeof *my);
	uint32_t *in = malloc(m * sizeof *in);
	int rc = -1;
	if (!s || !ms || !y || !my || !in)
		goto out;
	size_t nl = 0, nm = 0;
	uint32_t max_input = 0;
	for (size_t i = 0; i < n; i++) {
		int cls = flow_class(&r[i], labels);
		if (cls < 0)
			continue;
		s[nl] = r[i].score;
		y[nl] = cls;
		in[nl] = r[i].input;
		if (r[i].input > max_input)
			max_input = r[i].input;
		if (r[i].packets_scored >= 2) {
			ms[nm] = s[nl];
			my[nm++] = y[nl];
		}
		nl++;
	}
	ev->have_all = metrics_at(s, y, nl, threshold, &ev->all);
	ev->have_multi = metrics_at(ms, my, nm, threshold, &ev->multi);
	/* per input: its attack flows against every benign flow, reusing ms/my */
	double sum = 0;
	for (uint32_t k = 0; ev->have_all && k <= max_input; k++) {
		size_t c = 0, pos = 0;
		for (size_t i = 0; i < nl; i++)
			if (!y[i] || in[i] == k) {
				ms[c] = s[i];
				my[c++] = y[i];
				pos += (size_t)y[i];
			}
		struct ssmf_metrics mk;
		if (pos && ssmf_metrics_compute(ms, my, c, NAN, &mk) == 0) {
			sum += mk.roc_auc;
			ev->n_inputs_auc++;
		}
	}
	if (ev->n_inputs_auc)
		ev->mean_input_auc = sum / (double)ev->n_inputs_auc;
	rc = 0;
out:
	free(s);
	free(ms);
	free(y);
	free(my);
	free(in);
	return rc;
}

int ssmf_evaluation_curve(const struct ssmf_flow_score *r, size_t n,
                          const struct ssmf_labels *labels, struct ssmf_curve_point **pts,
                          size_t *npts)
{
	double *s = malloc((n ? n : 1) * sizeof *s);
	int *y = malloc((n ? n : 1) * sizeof *y);
	size_t nl = 0;
	for (size_t i = 0; s && y && i < n; i++) {
		int cls = flow_class(&r[i], labels);
		if (cls >= 0) {
			s[nl] = r[i].score;
			y[nl++] = cls;
		}
	}
	int rc = s && y ? ssmf_metrics_curve(s, y, nl, pts, npts) : -1;
	free(s);
	free(y);
	return rc;
}

void ssmf_write_evaluation(FILE *out, const struct ssmf_evaluation *ev)
{
	if (ev->have_all)
		ssmf_write_metrics(out, &ev->all);
	if (ev->have_multi)
		fprintf(out, "  flows with >= 2 packets (%zu attack, %zu benign): ROC-AUC %.4f\n",
		        ev->multi.n_pos, ev->multi.n_neg, ev->multi.roc_auc);
	if (ev->n_inputs_auc)
		fprintf(out, "  mean ROC-AUC per input over %zu inputs with attacks: %.4f\n",
		        ev->n_inputs_auc, ev->mean_input_auc);
}
