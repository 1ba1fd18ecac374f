/* report_svg.c - the report's figures as inline SVG (report_impl.h): drawn here, in C, so
 * the page shows them with scripts off too; each mark carries its numbers in data-*
 * attributes and a tooltip. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "score/output.h"
#include "score/report_impl.h"

/* A plot area: the SVG's size and the margins the axes' labels take. */
struct plot {
	double w, h, left, right, top, bottom;
};

static double px(const struct plot *p, double v, double lo, double hi)
{
	return p->left + (hi > lo ? (v - lo) / (hi - lo) : 0.5) * (p->w - p->left - p->right);
}

static double py(const struct plot *p, double v, double lo, double hi)
{
	return p->h - p->bottom -
	       (hi > lo ? (v - lo) / (hi - lo) : 0.5) * (p->h - p->top - p->bottom);
}

static void axes(FILE *f, const struct plot *p, const char *xlabel, const char *ylabel)
{
	fprintf(f,
	        "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
	        "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n"
	        "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>"
	        "<text class=\"label\" x=\"12\" y=\"%.1f\" text-anchor=\"middle\" "
	        "transform=\"rotate(-90 12 %.1f)\">%s</text>\n",
	        p->left, p->h - p->bottom, p->w - p->right, p->h - p->bottom, p->left, p->top,
	        p->left, p->h - p->bottom, (p->left + p->w - p->right) / 2, p->h - 4, xlabel,
	        (p->top + p->h - p->bottom) / 2, (p->top + p->h - p->bottom) / 2, ylabel);
}

static void xtick(FILE *f, const struct plot *p, double x, const char *text)
{
	fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x,
	        p->h - p->bottom + 14, text);
}

static void ytick(FILE *f, const struct plot *p, double y, const char *text)
{
	fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
	        p->left - 4, y + 4, text);
}

static void score_range(const struct ssmf_flow_score *r, size_t n, double threshold, double *lo,
                        double *hi)
{
	*lo = n ? r[n - 1].score : 0; /* r is sorted, highest first */
	*hi = n ? r[0].score : 1;
	if (isfinite(threshold)) {
		*lo = fmin(*lo, threshold);
		*hi = fmax(*hi, threshold);
	}
}

void rpt_svg_histogram(FILE *f, const struct ssmf_flow_score *r, size_t n, double threshold)
{
	size_t count[RPT_HIST_BINS] = {0}, most = 0;
	double lo, hi;
	score_range(r, n, threshold, &lo, &hi);
	double width = hi > lo ? (hi - lo) / RPT_HIST_BINS : 1;
	for (size_t i = 0; i < n; i++) {
		size_t b = hi > lo ? (size_t)((r[i].score - lo) / width) : 0;
		count[b < RPT_HIST_BINS ? b : RPT_HIST_BINS - 1]++;
	}
	for (int b = 0; b < RPT_HIST_BINS; b++)
		most = count[b] > most ? count[b] : most;
	struct plot p = {720, 220, 56, 12, 10, 34};
	fprintf(f,
	        "<svg id=\"histogram\" class=\"figure\" viewBox=\"0 0 %.0f %.0f\" "
	        "data-flows=\"%zu\" data-bins=\"%d\" role=\"img\">\n",
	        p.w, p.h, n, RPT_HIST_BINS);
	axes(f, &p, "score", "flows (log scale)");
	/* heights on a log scale: the tail of high scores is what matters, and it is small */
	double top = log1p((double)most);
	for (int b = 0; b < RPT_HIST_BINS; b++) {
		double b0 = lo + b * width, b1 = b0 + width;
		double x0 = px(&p, b0, lo, lo + RPT_HIST_BINS * width);
		double x1 = px(&p, b1, lo, lo + RPT_HIST_BINS * width);
		double y = py(&p, top > 0 ? log1p((double)count[b]) : 0, 0, top > 0 ? top : 1);
		fprintf(
		    f,
		    "<rect class=\"bar\" data-count=\"%zu\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%.1f\"><title>%.4f to %.4f: %zu flows</title></rect>\n",
		    count[b], x0, y, fmax(x1 - x0 - 1, 0.5), p.h - p.bottom - y, b0, b1, count[b]);
	}
	char t[32];
	snprintf(t, sizeof t, "%.3g", lo);
	xtick(f, &p, p.left, t);
	snprintf(t, sizeof t, "%.3g", hi);
	xtick(f, &p, p.w - p.right, t);
	snprintf(t, sizeof t, "%zu", most);
	ytick(f, &p, p.top, t);
	if (isfinite(threshold)) {
		double x = px(&p, threshold, lo, lo + RPT_HIST_BINS * width);
		fprintf(f,
		        "<line id=\"hist-threshold\" class=\"threshold\" data-value=\"%.6f\" "
		        "x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"><title>threshold %.6f"
		        "</title></line>\n",
		        threshold, x, p.top, x, p.h - p.bottom, threshold);
	}
	fputs("</svg>\n", f);
}

static int have_labels(const struct ssmf_flow_score *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].s.label >= 0)
			return 1;
	return 0;
}

const char *rpt_flow_class(const struct ssmf_flow_score *x, const struct ssmf_labels *labels)
{
	if (labels) {
		if (x->s.label < 0)
			return "unlabelled";
		return ssmf_label_is_benign(ssmf_labels_name(labels, x->s.label)) ? "benign"
		                                                                  : "attack";
	}
	switch (x->s.protocol) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
	case 58:
		return "icmp";
	default:
		return "other";
	}
}

void rpt_svg_timeline(FILE *f, const struct ssmf_flow_score *r, size_t n,
                      const struct ssmf_labels *labels, double threshold)
{
	const struct ssmf_labels *by = labels && have_labels(r, n) ? labels : NULL;
	uint64_t t0 = UINT64_MAX, t1 = 0;
	for (size_t i = 0; i < n; i++) {
		t0 = r[i].s.first_ts_ns < t0 ? r[i].s.first_ts_ns : t0;
		t1 = r[i].s.first_ts_ns > t1 ? r[i].s.first_ts_ns : t1;
	}
	/* The top flows all, then every stride-th of the rest. */
	size_t top = n < RPT_TIMELINE_TOP ? n : RPT_TIMELINE_TOP, rest = n - top;
	size_t room = RPT_TIMELINE_POINTS - RPT_TIMELINE_TOP;
	size_t stride = rest > room ? (rest + room - 1) / room : 1;
	size_t shown = top + (rest + stride - 1) / stride;
	double lo, hi;
	score_range(r, n, threshold, &lo, &hi);
	lo = fmin(lo, 0);
	struct plot p = {720, 240, 56, 12, 10, 34};
	fprintf(f,
	        "<svg id=\"timeline\" class=\"figure\" viewBox=\"0 0 %.0f %.0f\" "
	        "data-flows=\"%zu\" data-shown=\"%zu\" role=\"img\">\n",
	        p.w, p.h, n, shown);
	axes(f, &p, "flow start (seconds from the first)", "score");
	double span = n ? (double)(t1 - t0) * 1e-9 : 0;
	for (size_t i = 0; i < n; i = i < top ? i + 1 : i + stride) {
		const struct ssmf_flow_score *x = &r[i];
		double s = (double)(x->s.first_ts_ns - t0) * 1e-9;
		fprintf(f,
		        "<circle class=\"pt %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\"><title>flow %u: "
		        "score %.4f at +%.3f s</title></circle>\n",
		        rpt_flow_class(x, by), px(&p, s, 0, span), py(&p, x->score, lo, hi),
		        x->s.flow_id, x->score, s);
	}
	char t[48];
	ssmf_iso_time(n ? t0 : 0, t, sizeof t);
	t[19] = '\0'; /* to the second: 2026-12-02T13:59:01 */
	xtick(f, &p, p.left + 60, t);
	snprintf(t, sizeof t, "+%.6g s", span);
	xtick(f, &p, p.w - p.right - 30, t);
	snprintf(t, sizeof t, "%.3g", hi);
	ytick(f, &p, p.top, t);
	snprintf(t, sizeof t, "%.3g", lo);
	ytick(f, &p, p.h - p.bottom, t);
	if (isfinite(threshold)) {
		double y = py(&p, threshold, lo, hi);
		fprintf(f,
		        "<line class=\"threshold\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		        "y2=\"%.1f\"/>\n",
		        p.left, y, p.w - p.right, y);
	}
	fputs("</svg>\n", f);
	static const char *const by_label[] = {"attack", "benign", "unlabelled"};
	static const char *const by_proto[] = {"tcp", "udp", "icmp", "other"};
	const char *const *names = by ? by_label : by_proto;
	fputs("<p class=\"legend\">", f);
	for (size_t k = 0; k < (by ? 3u : 4u); k++)
		fprintf(f, "<span class=\"key %s\"></span>%s ", names[k], names[k]);
	if (shown < n)
		fprintf(f,
		        "&mdash; %zu of %zu flows drawn: the top %zu, then one in %zu of the rest",
		        shown, n, top, stride);
	fputs("</p>\n", f);
}

static void curve_vertex(FILE *f, const struct plot *p, const struct ssmf_curve_point *c, int roc)
{
	double x = roc ? c->fpr : c->tpr, y = roc ? c->tpr : c->precision;
	fprintf(f, "%.1f,%.1f ", px(p, x, 0, 1), py(p, y, 0, 1));
}

void rpt_svg_curve(FILE *f, const struct ssmf_curve_point *pts, size_t n, int roc, double threshold)
{
	struct plot p = {320, 320, 44, 12, 10, 34};
	fprintf(f,
	        "<svg id=\"%s\" class=\"figure curve\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n",
	        roc ? "roc" : "pr", p.w, p.h);
	axes(f, &p, roc ? "false-positive rate" : "recall",
	     roc ? "true-positive rate" : "precision");
	xtick(f, &p, p.left, "0");
	xtick(f, &p, p.w - p.right, "1");
	ytick(f, &p, p.top, "1");
	ytick(f, &p, p.h - p.bottom, "0");
	if (roc)
		fprintf(f,
		        "<line class=\"chance\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
		        px(&p, 0, 0, 1), py(&p, 0, 0, 1), px(&p, 1, 0, 1), py(&p, 1, 0, 1));
	/* every stride-th point, and the last (where both rates reach their end) */
	size_t stride = n > RPT_CURVE_POINTS ? (n + RPT_CURVE_POINTS - 1) / RPT_CURVE_POINTS : 1;
	fputs("<polyline class=\"curve\" points=\"", f);
	if (roc)
		fprintf(f, "%.1f,%.1f ", px(&p, 0, 0, 1), py(&p, 0, 0, 1));
	for (size_t i = 0; i < n; i += stride) {
		size_t j = i + stride >= n ? n - 1 : i;
		if (j != i)
			curve_vertex(f, &p, &pts[i], roc);
		curve_vertex(f, &p, &pts[j], roc);
	}
	fputs("\"/>\n", f);
	/* The operating point: the lowest threshold still at or above the run's. */
	size_t at = n;
	for (size_t i = 0; i < n && pts[i].threshold >= threshold; i++)
		at = i;
	if (at < n) {
		double x = roc ? pts[at].fpr : pts[at].tpr,
		       y = roc ? pts[at].tpr : pts[at].precision;
		fprintf(f,
		        "<circle class=\"operating\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>at the "
		        "threshold %.4f: TPR %.4f, FPR %.4f, precision %.4f</title></circle>\n",
		        px(&p, x, 0, 1), py(&p, y, 0, 1), threshold, pts[at].tpr, pts[at].fpr,
		        pts[at].precision);
	}
	fputs("</svg>\n", f);
}

void rpt_svg_strip(FILE *f, const struct ssmf_flow_score *x, size_t rank)
{
	uint64_t total = x->packets ? x->packets_scored : 0;
	size_t k = total < RPT_STRIP_PACKETS ? (size_t)total : RPT_STRIP_PACKETS;
	if (!k) {
		fputs("<p class=\"empty\">No packets of this flow were scored.</p>\n", f);
		return;
	}
	double most = 1e-9, biggest = 1;
	for (size_t i = 0; i < k; i++) {
		const float *v = x->packets[i].nll;
		most = fmax(most, (double)v[0] + v[1] + v[2] + v[3]);
		biggest = fmax(biggest, x->packets[i].ip_len);
	}
	const double w = 900, mid = 52, up = 46, down = 26, bar = fmin(w / (double)k, 12);
	fprintf(f,
	        "<svg id=\"strip-%zu\" class=\"strip\" viewBox=\"0 0 %.0f %.0f\" "
	        "data-packets=\"%zu\" data-total=\"%" PRIu64 "\" role=\"img\">\n"
	        "<line class=\"axis\" x1=\"0\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>\n",
	        rank, w, mid + down + 4, k, total, mid, w, mid);
	uint64_t t0 = x->packets[0].ts_ns;
	for (size_t i = 0; i < k; i++) {
		const struct ssmf_packet_score *p = &x->packets[i];
		double s = (double)p->nll[0] + p->nll[1] + p->nll[2] + p->nll[3];
		double hs = s / most * up, hz = p->ip_len / biggest * down, gap = 0;
		if (i > 0)
			gap = (double)(p->ts_ns - x->packets[i - 1].ts_ns) * 1e-9;
		fprintf(
		    f,
		    "<g class=\"dir%u\"><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
		    "height=\"%.1f\"/><rect class=\"size\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
		    "height=\"%.1f\"/><title>packet %zu at +%.6f s, %s, %u bytes, gap %.6f s, "
		    "surprise %.3f (direction %.2f, size %.2f, gap %.2f, flags %.2f)"
		    "</title></g>\n",
		    p->direction ? 1u : 0u, (double)i * bar, mid - hs, fmax(bar - 0.5, 0.5), hs,
		    (double)i * bar, mid, fmax(bar - 0.5, 0.5), hz, i,
		    (double)(p->ts_ns - t0) * 1e-9,
		    p->direction ? "responder to initiator" : "initiator to responder", p->ip_len,
		    gap, s, p->nll[0], p->nll[1], p->nll[2], p->nll[3]);
	}
	fputs("</svg>\n", f);
	if (k < total)
		fprintf(f, "<p class=\"note\">The first %zu of %" PRIu64 " packets.</p>\n", k,
		        total);
}
