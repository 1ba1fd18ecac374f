/* report.c - the analyst's report page (report.h): its sections in order, around the
 * figures of report_svg.c and the page's stylesheet and script (report.css, report.js,
 * compiled in). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/atomic_file.h"
#include "score/output.h"
#include "score/report_impl.h"

extern const char ssmf_report_css[], ssmf_report_js[];

void rpt_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int ssmf_report_add_input(struct ssmf_report_inputs *l, const struct ssmf_input_info *in,
                          const char *via, int calibration)
{
	struct ssmf_report_input *v = realloc(l->v, (l->n + 1) * sizeof *v);
	if (!v)
		return -1;
	l->v = v;
	struct ssmf_report_input *x = &v[l->n];
	*x = (struct ssmf_report_input){
	    .info = *in, .via = dup_or_null(via), .calibration = calibration};
	char **str[] = {&x->info.path,   &x->info.format,  &x->info.sha256,
	                &x->info.status, &x->info.message, &x->info.linktype_name};
	for (size_t k = 0; k < sizeof str / sizeof *str; k++)
		*str[k] = dup_or_null(*str[k]);
	l->n++;
	return 0;
}

void ssmf_report_inputs_free(struct ssmf_report_inputs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct ssmf_report_input *x = &l->v[i];
		free(x->info.path);
		free(x->info.format);
		free(x->info.sha256);
		free(x->info.status);
		free(x->info.message);
		free(x->info.linktype_name);
		free(x->via);
	}
	free(l->v);
	*l = (struct ssmf_report_inputs){0};
}

/* A <td> that sorts by the number v and shows it with `digits` decimals. */
static void num_cell(FILE *f, double v, int digits)
{
	fprintf(f, "<td class=\"n\" data-v=\"%.6f\">%.*f</td>", v, digits, v);
}

static void text_cell(FILE *f, const char *s)
{
	fputs("<td data-v=\"", f);
	rpt_text(f, s);
	fputs("\">", f);
	rpt_text(f, s);
	fputs("</td>", f);
}

static void endpoint(const uint8_t *a, int v6, unsigned port, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, a, s, sizeof s))
		snprintf(s, sizeof s, "?");
	snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", s, port);
}

static void section_run(FILE *f, const struct ssmf_report_run *run,
                        const struct ssmf_report_inputs *in, const struct ssmf_flow_score *r,
                        size_t n, const struct ssmf_host_results *hosts)
{
	size_t flagged = 0, labelled = 0;
	for (size_t i = 0; i < n; i++) {
		flagged += (size_t)(r[i].flagged != 0);
		labelled += (size_t)(r[i].s.label >= 0);
	}
	fputs("<section id=\"run\"><h2>Run</h2><dl class=\"facts\">\n<dt>model</dt><dd>", f);
	if (run->model)
		rpt_text(f, run->model);
	else
		fputs("the bundled model (models/README.md)", f);
	fputs("</dd>\n<dt>threshold</dt><dd id=\"threshold\"", f);
	if (isfinite(run->threshold)) {
		fprintf(f, " data-value=\"%.6f\">%.6f", run->threshold, run->threshold);
		if (run->threshold_from && strcmp(run->threshold_from, "--calibrate") == 0)
			fprintf(f, " (--calibrate, FPR %g on the benign inputs)", run->fpr);
		else if (run->threshold_from)
			fprintf(f, " (%s)", run->threshold_from);
	} else {
		fputs(">none (give --threshold or --calibrate to flag flows)", f);
	}
	fprintf(f,
	        "</dd>\n<dt>mode</dt><dd>%s, host weight %g</dd>\n"
	        "<dt>flows</dt><dd id=\"flow-count\" data-value=\"%zu\">%zu</dd>\n"
	        "<dt>packets scored</dt><dd id=\"packet-count\" data-value=\"%" PRIu64 "\">%" PRIu64
	        "</dd>\n<dt>flagged</dt><dd id=\"flagged-count\" data-value=\"%zu\">%zu</dd>\n"
	        "<dt>labelled flows</dt><dd id=\"labelled-count\" data-value=\"%zu\">%zu</dd>\n"
	        "<dt>hosts</dt><dd id=\"host-count\" data-value=\"%zu\">%zu</dd>\n",
	        run->mode, run->host_weight, n, n, run->packets, run->packets, flagged, flagged,
	        labelled, labelled, hosts->n, hosts->n);
	if (n)
		fprintf(f, "<dt>top score</dt><dd id=\"top-score\" data-value=\"%.6f\">%.6f</dd>\n",
		        r[0].score, r[0].score);
	fputs("</dl>\n<h3>Inputs</h3>\n<table id=\"inputs\"><thead><tr><th>input</th><th>read "
	      "through</th><th>role</th><th>format</th><th>link type</th><th>bytes</th>"
	      "<th>packets</th><th>status</th><th>SHA-256</th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < in->n; i++) {
		const struct ssmf_report_input *x = &in->v[i];
		fputs("<tr>", f);
		text_cell(f, x->info.path);
		text_cell(f, x->via ? x->via : "");
		text_cell(f, x->calibration ? "calibration" : "scored");
		text_cell(f, x->info.format);
		text_cell(f, x->info.linktype_name);
		fprintf(f, "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>", x->info.size_bytes,
		        x->info.packets);
		text_cell(f, x->info.status);
		fputs("<td class=\"hash\">", f);
		rpt_text(f, x->info.sha256);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table></section>\n", f);
}

static void section_scores(FILE *f, const struct ssmf_flow_score *r, size_t n,
                           const struct ssmf_labels *labels, double threshold)
{
	fputs("<section id=\"scores\"><h2>Scores</h2>\n", f);
	if (!n) {
		fputs("<p class=\"empty\">No flows were scored.</p></section>\n", f);
		return;
	}
	fputs("<h3>Histogram</h3>\n", f);
	rpt_svg_histogram(f, r, n, threshold);
	fputs("<h3>Timeline</h3>\n", f);
	rpt_svg_timeline(f, r, n, labels, threshold);
	fputs("</section>\n", f);
}

static void section_top(FILE *f, const struct ssmf_flow_score *r, size_t top,
                        const struct ssmf_labels *labels)
{
	fprintf(f,
	        "<section id=\"top\"><h2>Top %zu flows</h2>\n<p class=\"note\">Click a column's "
	        "name to sort by it. Components are mean surprise per predicted packet "
	        "(nats); host components are those of the flow's more surprising host "
	        "event.</p>\n<table id=\"top-flows\" class=\"sortable\"><thead><tr>",
	        top);
	static const char *const head[] = {
	    "rank",          "score",      "packet score", "host score",  "direction",
	    "size",          "gap",        "flags",        "host role",   "host size",
	    "host interval", "host flags", "proto",        "initiator",   "responder",
	    "packets",       "bytes",      "seconds",      "start (UTC)", "end",
	    "mostly",        "label",      "flagged",      "community id"};
	for (size_t k = 0; k < sizeof head / sizeof *head; k++)
		fprintf(f, "<th>%s</th>", head[k]);
	fputs("</tr></thead><tbody>\n", f);
	for (size_t i = 0; i < top; i++) {
		const struct ssmf_flow_score *x = &r[i];
		char a[80], b[80], pb[8], why[32], t0[40];
		endpoint(x->s.src_addr, x->s.ip_version == 6, x->s.src_port, a, sizeof a);
		endpoint(x->s.dst_addr, x->s.ip_version == 6, x->s.dst_port, b, sizeof b);
		ssmf_iso_time(x->s.first_ts_ns, t0, sizeof t0);
		fprintf(f,
		        "<tr id=\"flow-%zu\" data-flow-id=\"%u\"><td class=\"n\" data-v=\"%zu\">"
		        "<a href=\"#packets-%zu\">%zu</a></td>",
		        i + 1, x->s.flow_id, i + 1, i + 1, i + 1);
		num_cell(f, x->score, 3);
		num_cell(f, x->packet_score, 3);
		num_cell(f, x->host_score, 3);
		for (int c = 0; c < SSMF_N_COMP; c++)
			num_cell(f, x->comp[c], 3);
		for (int c = 0; c < SSMF_N_COMP; c++)
			num_cell(f, x->host_comp[c], 3);
		text_cell(f, ssmf_proto_name(x->s.protocol, pb, sizeof pb));
		text_cell(f, a);
		text_cell(f, b);
		num_cell(f, (double)(x->s.fwd_packets + x->s.bwd_packets), 0);
		num_cell(f, (double)(x->s.fwd_bytes + x->s.bwd_bytes), 0);
		num_cell(f, (double)x->s.duration_ns * 1e-9, 3);
		text_cell(f, t0);
		text_cell(f, ssmf_end_reason_names[x->s.end_reason]);
		text_cell(f, ssmf_flow_reason(x, why, sizeof why));
		text_cell(f, labels && x->s.label >= 0 ? ssmf_labels_name(labels, x->s.label) : "");
		text_cell(f, x->flagged ? "yes" : "");
		text_cell(f, x->s.community_id);
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></section>\n", f);
}

static void section_packets(FILE *f, const struct ssmf_flow_score *r, size_t top)
{
	fprintf(f,
	        "<section id=\"packets\"><h2>Packets of the top flows</h2>\n<p class=\"note\">"
	        "Each packet is a bar: its surprise above the line, its IP length below; "
	        "<span class=\"key dir0\"></span>from the initiator, <span class=\"key "
	        "dir1\"></span>towards it. Hover a bar for its time, size, gap and surprise. "
	        "At most %d packets a flow.</p>\n",
	        RPT_STRIP_PACKETS);
	for (size_t i = 0; i < top; i++) {
		char a[80], b[80], pb[8];
		const struct ssmf_flow_score *x = &r[i];
		endpoint(x->s.src_addr, x->s.ip_version == 6, x->s.src_port, a, sizeof a);
		endpoint(x->s.dst_addr, x->s.ip_version == 6, x->s.dst_port, b, sizeof b);
		fprintf(f, "<details id=\"packets-%zu\"%s><summary>#%zu %s ", i + 1,
		        i < 3 ? " open" : "", i + 1, ssmf_proto_name(x->s.protocol, pb, sizeof pb));
		rpt_text(f, a);
		fputs(" &rarr; ", f);
		rpt_text(f, b);
		fprintf(f, ", score %.3f, %" PRIu64 " packets</summary>\n", x->score,
		        x->s.fwd_packets + x->s.bwd_packets);
		rpt_svg_strip(f, x, i + 1);
		fputs("</details>\n", f);
	}
	fputs("</section>\n", f);
}

static void section_hosts(FILE *f, const struct ssmf_host_results *h, size_t top)
{
	fputs("<section id=\"hosts\"><h2>Hosts</h2>\n", f);
	if (!h->n) {
		fputs("<p class=\"empty\">No host table: the model has no host level, or "
		      "--host-weight is 0.</p></section>\n",
		      f);
		return;
	}
	if (top > h->n)
		top = h->n;
	fprintf(f,
	        "<p class=\"note\">The %zu highest of %zu hosts: summed surprise of their flow "
	        "events over their number plus one.</p>\n<table id=\"host-table\" "
	        "class=\"sortable\"><thead><tr><th>rank</th><th>host</th><th>source</th>"
	        "<th>initiator</th><th>responder</th><th>peers</th><th>ports</th><th>score</th>",
	        top, h->n);
	for (int c = 0; c < SSMF_N_COMP; c++)
		fprintf(f, "<th>%s</th>", ssmf_host_comp_names[c]);
	fputs("<th>worst event</th><th>reason</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; i < top; i++) {
		const struct ssmf_host_score *x = &h->hosts[i];
		char a[INET6_ADDRSTRLEN];
		if (!inet_ntop(x->ip_version == 6 ? AF_INET6 : AF_INET, x->addr, a, sizeof a))
			snprintf(a, sizeof a, "?");
		fprintf(f, "<tr><td class=\"n\" data-v=\"%zu\">%zu</td>", i + 1, i + 1);
		text_cell(f, a);
		num_cell(f, x->source, 0);
		num_cell(f, x->flows_init, 0);
		num_cell(f, x->flows_resp, 0);
		num_cell(f, x->peers, 0);
		num_cell(f, x->ports, 0);
		num_cell(f, x->score, 3);
		for (int c = 0; c < SSMF_N_COMP; c++)
			num_cell(f, x->comp[c], 3);
		num_cell(f, x->max_event, 3);
		text_cell(f, x->top_reason);
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></section>\n", f);
}

static void metric(FILE *f, const char *id, const char *name, double v)
{
	fprintf(f, "<dt>%s</dt><dd id=\"%s\" data-value=\"%.6f\">%.4f</dd>\n", name, id, v, v);
}

static void section_evaluation(FILE *f, const struct ssmf_flow_score *r, size_t n,
                               const struct ssmf_labels *labels, const struct ssmf_evaluation *ev,
                               double threshold)
{
	fputs("<section id=\"evaluation\"><h2>Evaluation</h2>\n", f);
	struct ssmf_curve_point *pts = NULL;
	size_t npts = 0;
	if (!ev || !ev->have_all || ssmf_evaluation_curve(r, n, labels, &pts, &npts) != 0) {
		fputs("<p class=\"empty\">No evaluation: it needs labels (--labels, --label-rule, "
		      "--label-input or a labelled dataset) matching attack and benign "
		      "flows.</p></section>\n",
		      f);
		return;
	}
	const struct ssmf_metrics *m = &ev->all;
	fprintf(f, "<p class=\"note\">Over every labelled flow: %zu attack, %zu benign.</p>\n",
	        m->n_pos, m->n_neg);
	fputs("<dl class=\"facts\">\n", f);
	metric(f, "roc-auc", "ROC-AUC", m->roc_auc);
	metric(f, "pr-auc", "PR-AUC (average precision)", m->pr_auc);
	metric(f, "tpr-1e-2", "TPR at FPR 1e-2", m->tpr_at_fpr_1e2);
	metric(f, "tpr-1e-3", "TPR at FPR 1e-3", m->tpr_at_fpr_1e3);
	metric(f, "best-f1", "best F1", m->best_f1);
	if (ev->have_multi)
		metric(f, "roc-auc-multi", "ROC-AUC, flows of 2+ packets", ev->multi.roc_auc);
	fputs("</dl>\n<div class=\"curves\">", f);
	rpt_svg_curve(f, pts, npts, 1, m->threshold);
	rpt_svg_curve(f, pts, npts, 0, m->threshold);
	free(pts);
	fprintf(f,
	        "</div>\n<h3>Confusion matrix at score &ge; %.6f%s</h3>\n"
	        "<table id=\"confusion\" data-tp=\"%zu\" data-fp=\"%zu\" data-tn=\"%zu\" "
	        "data-fn=\"%zu\"><tr><th></th><th>flagged</th><th>not flagged</th></tr>\n"
	        "<tr><th>attack</th><td class=\"n\">%zu</td><td class=\"n\">%zu</td></tr>\n"
	        "<tr><th>benign</th><td class=\"n\">%zu</td><td class=\"n\">%zu</td></tr>"
	        "</table></section>\n",
	        m->threshold, isfinite(threshold) ? "" : " (no threshold given: the best F1's)",
	        m->tp, m->fp, m->tn, m->fn, m->tp, m->fn, m->fp, m->tn);
}

static void page(FILE *f, const struct ssmf_report_run *run, const struct ssmf_report_inputs *in,
                 const struct ssmf_flow_score *r, size_t n, const struct ssmf_host_results *hosts,
                 const struct ssmf_labels *labels, const struct ssmf_evaluation *ev)
{
	size_t top = run->top < n ? run->top : n;
	char now[40];
	ssmf_iso_time((uint64_t)time(NULL) * 1000000000u, now, sizeof now);
	strcpy(now + 19, "Z"); /* to the second: 2026-12-02T13:59:01Z */
	/* The policy forbids every fetch: the page works from a mail attachment, offline. */
	fprintf(f,
	        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	        "<title>ssmflow report: %zu flows</title>\n<style>\n%s</style></head>\n"
	        "<body data-flows=\"%zu\" data-top=\"%zu\">\n<header><h1>ssmflow score "
	        "report</h1><p>ssmflow %s, written %s. The page holds the top %zu flows and "
	        "aggregates (histogram bins, a sample of the timeline), not every flow or "
	        "packet: -o writes them all.</p></header>\n",
	        n, ssmf_report_css, n, top, run->version, now, top);
	section_run(f, run, in, r, n, hosts);
	section_scores(f, r, n, labels, run->threshold);
	section_top(f, r, top, labels);
	section_packets(f, r, top);
	section_hosts(f, hosts, run->top);
	section_evaluation(f, r, n, labels, ev, run->threshold);
	fprintf(f, "<script>\n%s</script>\n</body></html>\n", ssmf_report_js);
}

int ssmf_write_report(const char *path, const struct ssmf_report_run *run,
                      const struct ssmf_report_inputs *inputs, const struct ssmf_flow_score *r,
                      size_t n, const struct ssmf_host_results *hosts,
                      const struct ssmf_labels *labels, const struct ssmf_evaluation *ev, char *err,
                      size_t errlen)
{
	struct ssmf_atomic_file out;
	if (ssmf_atomic_fopen(&out, path, err, errlen) != 0)
		return -1;
	page(out.fp, run, inputs, r, n, hosts, labels, ev);
	if (ferror(out.fp))
		out.failed_errno = errno ? errno : EIO;
	return ssmf_atomic_commit(&out, err, errlen);
}
