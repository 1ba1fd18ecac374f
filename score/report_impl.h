/* report_impl.h - what the report's files share: escaping, and the SVG figures
 * (report_svg.c) the page (report.c) puts in its sections. */
#ifndef SSMF_REPORT_IMPL_H
#define SSMF_REPORT_IMPL_H

#include <stdio.h>

#include "score/metrics.h"
#include "score/report.h"

/* Figures hold at most this many marks: the page stays small on any input. */
#define RPT_HIST_BINS       60
#define RPT_TIMELINE_POINTS 4000 /* the top ones first, then a sample of the rest */
#define RPT_TIMELINE_TOP    1000
#define RPT_CURVE_POINTS    800
#define RPT_STRIP_PACKETS   200

/* s with &, <, >, " and ' as character references: safe in text and in quoted attributes. */
void rpt_text(FILE *f, const char *s);

/* The colour class of a flow in the timeline: by label with labels, else by protocol. */
const char *rpt_flow_class(const struct ssmf_flow_score *x, const struct ssmf_labels *labels);

void rpt_svg_histogram(FILE *f, const struct ssmf_flow_score *r, size_t n, double threshold);
void rpt_svg_timeline(FILE *f, const struct ssmf_flow_score *r, size_t n,
                      const struct ssmf_labels *labels, double threshold);
/* ROC (roc != 0) or PR curve of pts[0..n), the point at the threshold marked. */
void rpt_svg_curve(FILE *f, const struct ssmf_curve_point *pts, size_t n, int roc,
                   double threshold);
/* The packets of top flow `rank` (1-based): surprise above the axis, size below, coloured
 * by direction, each with its values in a tooltip. */
void rpt_svg_strip(FILE *f, const struct ssmf_flow_score *x, size_t rank);

#endif
