#include "score/output.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datasets/writer.h"
#include "score/host_output.h"

const char *const ssmf_comp_names[SSMF_N_COMP] = {"direction", "size", "gap", "flags"};

static int by_score(const void *pa, const void *pb)
{
	const struct ssmf_flow_score *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->s.flow_id < b->s.flow_id ? -1 : a->s.flow_id > b->s.flow_id;
}

void ssmf_scores_sort(struct ssmf_flow_score *r, size_t n)
{
	if (n) /* no flows: r may be NULL, which qsort may not be given */
		qsort(r, n, sizeof *r, by_score);
}

static void addr_str(const uint8_t *a, int v6, char *buf, size_t len)
{
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* IP protocols by name: the table's lowercase names and Suricata EVE's "proto" values
 * (as Suricata spells them, from the IANA keywords). Others print as their number. */
static const struct {
	uint8_t number;
	const char *name, *eve;
} proto_names[] = {
    {6, "tcp", "TCP"},          {17, "udp", "UDP"},    {1, "icmp", "ICMP"},
    {58, "icmp6", "IPv6-ICMP"}, {132, "sctp", "SCTP"},
};

static const char *proto_name_in(uint8_t p, int eve, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof proto_names / sizeof *proto_names; i++)
		if (proto_names[i].number == p)
			return eve ? proto_names[i].eve : proto_names[i].name;
	snprintf(buf, len, "%u", p);
	return buf;
}

const char *ssmf_proto_name(uint8_t p, char *buf, size_t len)
{
	return proto_name_in(p, 0, buf, len);
}

static const char *label_of(const struct ssmf_labels *l, int32_t id)
{
	return l && id >= 0 ? ssmf_labels_name(l, id) : "";
}

/* The index of the largest of v[0..n), the first on ties. */
static int largest(const double *v, int n)
{
	int best = 0;
	for (int c = 1; c < n; c++)
		if (v[c] > v[best])
			best = c;
	return best;
}

/* What makes the flow's score: its activity's largest term when that is most of the score
 * ("activity:repeats"), its packets' evidence as a whole when that is ("evidence"), else its
 * packets' largest component, or, when its host score outweighs its packets (score/hosts.h), its
 * event's largest component ("host:interval"). */
const char *ssmf_flow_reason(const struct ssmf_flow_score *r, char *buf, size_t len)
{
	double pred = r->packets_scored > 1 ? (double)(r->packets_scored - 1) : 0;
	if (r->activity_part > 0 && r->activity_part > r->score - r->activity_part)
		return ssmf_activity_reasons[largest(r->activity_comp, SSMF_PROFILE_N)];
	if (r->evidence_part > 0 && r->evidence_part > r->score - r->evidence_part)
		return "evidence";
	if (r->host_score > 0 && r->host_score > r->packet_score) {
		snprintf(buf, len, "host:%s",
		         ssmf_host_comp_names[largest(r->host_comp, SSMF_N_COMP)]);
		return buf;
	}
	return pred > 0 ? ssmf_comp_names[largest(r->comp, SSMF_N_COMP)] : "-";
}

void ssmf_write_table(FILE *out, const struct ssmf_flow_score *r, size_t n, size_t top,
                      const struct ssmf_labels *labels, int have_threshold)
{
	if (top > n)
		top = n;
	fprintf(out, "%4s %7s %-5s %-47s %-47s %7s %9s %-7s %-18s %s\n", "rank", "score", "proto",
	        "initiator", "responder", "packets", "seconds", "end", "mostly", "label");
	for (size_t i = 0; i < top; i++) {
		const struct ssmf_flow_score *x = &r[i];
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], ea[64], eb[64], pb[8], why[32];
		addr_str(x->s.src_addr, x->s.ip_version == 6, a, sizeof a);
		addr_str(x->s.dst_addr, x->s.ip_version == 6, b, sizeof b);
		snprintf(ea, sizeof ea, x->s.ip_version == 6 ? "[%s]:%u" : "%s:%u", a,
		         x->s.src_port);
		snprintf(eb, sizeof eb, x->s.ip_version == 6 ? "[%s]:%u" : "%s:%u", b,
		         x->s.dst_port);
		fprintf(out, "%4zu %7.3f %-5s %-47s %-47s %7" PRIu64 " %9.3f %-7s %-18s %s%s\n",
		        i + 1, x->score, ssmf_proto_name(x->s.protocol, pb, sizeof pb), ea, eb,
		        x->s.fwd_packets + x->s.bwd_packets, (double)x->s.duration_ns * 1e-9,
		        ssmf_end_reason_names[x->s.end_reason],
		        ssmf_flow_reason(x, why, sizeof why), label_of(labels, x->s.label),
		        have_threshold && x->flagged ? (x->s.label >= 0 ? " FLAGGED" : "FLAGGED")
		                                     : "");
	}
	if (n > top)
		fprintf(out, "(%zu more flows; -o FILE --format csv|jsonl|hdf5 writes them all)\n",
		        n - top);
}

static void ts_str(uint64_t ns, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

/* ISO 8601 in UTC with nanoseconds: 2026-12-02T13:59:01.123456789Z. */
void ssmf_iso_time(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	char day[24]; /* 2554-07-21T23:34:33 at most: uint64_t ns end there */
	if (!gmtime_r(&sec, &tm) || !strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(day, sizeof day, "?");
	snprintf(buf, len, "%s.%09" PRIu64 "Z", day, ns % 1000000000u);
}

/* An exact JSON integer: cJSON's numbers are doubles, which stop at 2^53. */
static void add_u64(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	cJSON_AddRawToObject(o, key, buf);
}

int ssmf_write_csv(FILE *out, FILE *pout, const struct ssmf_flow_score *r, size_t n,
                   const struct ssmf_labels *labels)
{
	fprintf(out, "flow_id,src_addr,src_port,dst_addr,dst_port,protocol,vlan,first_ts,last_ts,"
	             "duration_s,fwd_packets,bwd_packets,fwd_bytes,bwd_bytes,end_reason,score,"
	             "score_direction,score_size,score_gap,score_flags,max_surprise,"
	             "max_surprise_index,packets_scored,label,flagged,community_id,packet_score,"
	             "host_score,event_surprise_initiator,event_surprise_responder,host_score_role,"
	             "host_score_size,host_score_interval,host_score_flags,activity,activity_rate,"
	             "activity_repeats,activity_new_peers,activity_returns,evidence\n");
	if (pout)
		fprintf(pout, "flow_id,pkt_index,ts,surprise,direction,size,gap,flags\n");
	for (size_t i = 0; i < n; i++) {
		const struct ssmf_flow_score *x = &r[i];
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], t0[32], t1[32];
		addr_str(x->s.src_addr, x->s.ip_version == 6, a, sizeof a);
		addr_str(x->s.dst_addr, x->s.ip_version == 6, b, sizeof b);
		ts_str(x->s.first_ts_ns, t0, sizeof t0);
		ts_str(x->s.last_ts_ns, t1, sizeof t1);
		const char *lab = label_of(labels, x->s.label);
		fprintf(out,
		        "%u,%s,%u,%s,%u,%u,%u,%s,%s,%.9f,%" PRIu64 ",%" PRIu64 ",%" PRIu64
		        ",%" PRIu64 ",%s,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%u,%" PRIu64 ",",
		        x->s.flow_id, a, x->s.src_port, b, x->s.dst_port, x->s.protocol, x->s.vlan,
		        t0, t1, (double)x->s.duration_ns * 1e-9, x->s.fwd_packets, x->s.bwd_packets,
		        x->s.fwd_bytes, x->s.bwd_bytes, ssmf_end_reason_names[x->s.end_reason],
		        x->score, x->comp[0], x->comp[1], x->comp[2], x->comp[3], x->max_surprise,
		        x->max_surprise_index, x->packets_scored);
		/* labels are free text: quote them */
		fputc('"', out);
		for (const char *p = lab; *p; p++) {
			if (*p == '"')
				fputc('"', out);
			fputc(*p, out);
		}
		fprintf(out,
		        "\",%d,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,"
		        "%.6f\n",
		        x->flagged, x->s.community_id, x->packet_score, x->host_score,
		        x->event_surprise[0], x->event_surprise[1], x->host_comp[0],
		        x->host_comp[1], x->host_comp[2], x->host_comp[3], x->activity,
		        x->activity_comp[0], x->activity_comp[1], x->activity_comp[2],
		        x->activity_comp[3], x->evidence);
		if (pout && x->packets)
			for (uint64_t k = 0; k < x->packets_scored; k++) {
				const struct ssmf_packet_score *p = &x->packets[k];
				char ts[32];
				ts_str(p->ts_ns, ts, sizeof ts);
				fprintf(pout, "%u,%" PRIu64 ",%s,%.6f,%.6f,%.6f,%.6f,%.6f\n",
				        x->s.flow_id, k, ts,
				        (double)p->nll[0] + p->nll[1] + p->nll[2] + p->nll[3],
				        p->nll[0], p->nll[1], p->nll[2], p->nll[3]);
			}
	}
	return ferror(out) || (pout && ferror(pout)) ? -1 : 0;
}

static double r6(double x)
{
	return round(x * 1e6) / 1e6; /* stable text: 6 decimals, as the CSV */
}

/* One flow as a Suricata EVE "flow" event (the keys, and the fields of our own, are
 * tabled in ssmflow-score(1)). */
static cJSON *flow_json(const struct ssmf_flow_score *x, const struct ssmf_labels *labels,
                        int per_packet)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], t0[40], t1[40], pb[8];
	addr_str(x->s.src_addr, x->s.ip_version == 6, a, sizeof a);
	addr_str(x->s.dst_addr, x->s.ip_version == 6, b, sizeof b);
	ssmf_iso_time(x->s.first_ts_ns, t0, sizeof t0);
	ssmf_iso_time(x->s.last_ts_ns, t1, sizeof t1);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "timestamp", t0);
	cJSON_AddNumberToObject(o, "flow_id", x->s.flow_id);
	cJSON_AddStringToObject(o, "event_type", "flow");
	cJSON_AddStringToObject(o, "src_ip", a);
	cJSON_AddNumberToObject(o, "src_port", x->s.src_port);
	cJSON_AddStringToObject(o, "dest_ip", b);
	cJSON_AddNumberToObject(o, "dest_port", x->s.dst_port);
	cJSON_AddStringToObject(o, "proto", proto_name_in(x->s.protocol, 1, pb, sizeof pb));
	if (x->s.vlan) /* EVE: an array of the VLAN ids, absent without one */
		cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "vlan"),
		                     cJSON_CreateNumber(x->s.vlan));
	if (x->s.community_id[0])
		cJSON_AddStringToObject(o, "community_id", x->s.community_id);
	else
		cJSON_AddNullToObject(o, "community_id");
	cJSON *f = cJSON_AddObjectToObject(o, "flow");
	cJSON_AddNumberToObject(f, "pkts_toserver", (double)x->s.fwd_packets);
	cJSON_AddNumberToObject(f, "pkts_toclient", (double)x->s.bwd_packets);
	cJSON_AddNumberToObject(f, "bytes_toserver", (double)x->s.fwd_bytes);
	cJSON_AddNumberToObject(f, "bytes_toclient", (double)x->s.bwd_bytes);
	cJSON_AddStringToObject(f, "start", t0);
	cJSON_AddStringToObject(f, "end", t1);
	add_u64(f, "start_ns", x->s.first_ts_ns);
	add_u64(f, "end_ns", x->s.last_ts_ns);
	/* EVE's age: whole seconds between the first and the last packet's second */
	cJSON_AddNumberToObject(
	    f, "age", (double)(x->s.last_ts_ns / 1000000000u - x->s.first_ts_ns / 1000000000u));
	cJSON_AddNumberToObject(f, "duration_s", (double)x->s.duration_ns * 1e-9);
	cJSON_AddStringToObject(f, "end_reason", ssmf_end_reason_names[x->s.end_reason]);
	cJSON_AddNumberToObject(o, "score", r6(x->score));
	cJSON *c = cJSON_AddObjectToObject(o, "components");
	for (int k = 0; k < SSMF_N_COMP; k++)
		cJSON_AddNumberToObject(c, ssmf_comp_names[k], r6(x->comp[k]));
	cJSON_AddNumberToObject(o, "max_surprise", r6(x->max_surprise));
	cJSON_AddNumberToObject(o, "max_surprise_index", x->max_surprise_index);
	cJSON_AddNumberToObject(o, "packets_scored", (double)x->packets_scored);
	if (x->s.label >= 0)
		cJSON_AddStringToObject(o, "label", label_of(labels, x->s.label));
	else
		cJSON_AddNullToObject(o, "label");
	cJSON_AddBoolToObject(o, "flagged", x->flagged);
	cJSON_AddNumberToObject(o, "packet_score", r6(x->packet_score));
	cJSON_AddNumberToObject(o, "host_score", r6(x->host_score));
	cJSON *ev = cJSON_AddArrayToObject(o, "event_surprise"); /* initiator's, responder's */
	for (int k = 0; k < 2; k++)
		cJSON_AddItemToArray(ev, cJSON_CreateNumber(r6(x->event_surprise[k])));
	cJSON *hc = cJSON_AddObjectToObject(o, "host_components");
	for (int k = 0; k < SSMF_N_COMP; k++)
		cJSON_AddNumberToObject(hc, ssmf_host_comp_names[k], r6(x->host_comp[k]));
	cJSON_AddNumberToObject(o, "activity", r6(x->activity));
	cJSON *ac = cJSON_AddObjectToObject(o, "activity_components");
	for (int k = 0; k < SSMF_PROFILE_N; k++)
		cJSON_AddNumberToObject(ac, ssmf_profile_names[k], r6(x->activity_comp[k]));
	cJSON_AddNumberToObject(o, "evidence", r6(x->evidence));
	if (per_packet && x->packets) {
		cJSON *arr = cJSON_AddArrayToObject(o, "packets");
		for (uint64_t k = 0; k < x->packets_scored; k++) {
			const struct ssmf_packet_score *p = &x->packets[k];
			char ts[40];
			ssmf_iso_time(p->ts_ns, ts, sizeof ts);
			cJSON *po = cJSON_CreateObject();
			cJSON_AddStringToObject(po, "timestamp", ts);
			add_u64(po, "ts_ns", p->ts_ns);
			cJSON_AddNumberToObject(
			    po, "surprise",
			    r6((double)p->nll[0] + p->nll[1] + p->nll[2] + p->nll[3]));
			for (int m = 0; m < SSMF_N_COMP; m++)
				cJSON_AddNumberToObject(po, ssmf_comp_names[m], r6(p->nll[m]));
			cJSON_AddItemToArray(arr, po);
		}
	}
	return o;
}

int ssmf_write_jsonl(FILE *out, const struct ssmf_flow_score *r, size_t n,
                     const struct ssmf_labels *labels, int per_packet)
{
	for (size_t i = 0; i < n; i++) {
		cJSON *o = flow_json(&r[i], labels, per_packet);
		char *s = o ? cJSON_PrintUnformatted(o) : NULL;
		cJSON_Delete(o);
		if (!s)
			return -1;
		fputs(s, out);
		fputc('\n', out);
		cJSON_free(s);
	}
	return ferror(out) ? -1 : 0;
}

void ssmf_write_metrics(FILE *out, const struct ssmf_metrics *m)
{
	fprintf(out,
	        "evaluation: %zu attack and %zu benign flows\n"
	        "  ROC-AUC %.4f   PR-AUC %.4f   TPR@FPR=1e-2 %.4f   TPR@FPR=1e-3 %.4f\n"
	        "  best F1 %.4f at score >= %.4f\n",
	        m->n_pos, m->n_neg, m->roc_auc, m->pr_auc, m->tpr_at_fpr_1e2, m->tpr_at_fpr_1e3,
	        m->best_f1, m->best_f1_threshold);
	if (isfinite(m->threshold))
		fprintf(
		    out,
		    "  at threshold %.4f: TP %zu  FP %zu  TN %zu  FN %zu  (TPR %.4f, FPR %.4f)\n",
		    m->threshold, m->tp, m->fp, m->tn, m->fn,
		    m->tp + m->fn ? (double)m->tp / (double)(m->tp + m->fn) : 0.0,
		    m->fp + m->tn ? (double)m->fp / (double)(m->fp + m->tn) : 0.0);
}

/* The HDF5 row of /scores: the flow summary plus the scores. */
struct score_row {
	struct ssmf_flow_summary s;
	double score, comp[SSMF_N_COMP], max_surprise;
	uint64_t packets_scored;
	uint32_t max_surprise_index;
	int32_t flagged;
};

struct packet_row {
	uint64_t ts_ns;
	uint32_t flow_id, pkt_index;
	float nll[SSMF_N_COMP];
};

int ssmf_write_scores_h5(const char *path, const struct ssmf_flow_score *r, size_t n,
                         const struct ssmf_host_results *hosts,
                         const struct ssmf_report_inputs *inputs, const struct ssmf_labels *labels,
                         int per_packet, double threshold, const struct ssmf_evaluation *ev,
                         char *err, size_t errlen)
{
	/* The dataset writer gives the temporary name, shuffle+zstd chunks and the rename;
	 * /packets stays empty and /flows holds the flows in score order. */
	struct ssmf_writer_opts o;
	ssmf_writer_opts_default(&o);
	struct ssmf_writer *w = ssmf_writer_create(path, &o, err, errlen);
	if (!w)
		return -1;
	int rc = 0;
	for (size_t i = 0; inputs && i < inputs->n && rc == 0; i++)
		if (!inputs->v[i].calibration)
			rc = ssmf_writer_add_input(w, &inputs->v[i].info);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct ssmf_flow_summary s = r[i].s;
		s.packet_count = 0;
		rc = ssmf_writer_add_flow(w, &s, NULL);
	}
	/* Scores as named columns beside /flows, row for row: each a double of the result. */
#define COL(name, field)                                                                           \
	{                                                                                          \
		name, offsetof(struct ssmf_flow_score, field)                                      \
	}
	static const struct {
		const char *name;
		size_t offset;
	} col[] = {
	    COL("score", score),
	    COL("score_direction", comp[0]),
	    COL("score_size", comp[1]),
	    COL("score_gap", comp[2]),
	    COL("score_flags", comp[3]),
	    COL("max_surprise", max_surprise),
	    COL("packet_score", packet_score),
	    COL("host_score", host_score),
	    COL("event_surprise_initiator", event_surprise[0]),
	    COL("event_surprise_responder", event_surprise[1]),
	    COL("host_score_role", host_comp[0]),
	    COL("host_score_size", host_comp[1]),
	    COL("host_score_interval", host_comp[2]),
	    COL("host_score_flags", host_comp[3]),
	    COL("activity", activity),
	    COL("activity_rate", activity_comp[0]),
	    COL("activity_repeats", activity_comp[1]),
	    COL("activity_new_peers", activity_comp[2]),
	    COL("activity_returns", activity_comp[3]),
	    COL("evidence", evidence),
	};
#undef COL
	enum { NCOL = sizeof col / sizeof col[0] };
	double *cols[NCOL];
	for (int k = 0; k < NCOL; k++)
		cols[k] = malloc((n ? n : 1) * sizeof(double));
	uint64_t *scored = malloc((n ? n : 1) * sizeof *scored);
	uint64_t *flag = malloc((n ? n : 1) * sizeof *flag);
	uint64_t *source = malloc((n ? n : 1) * sizeof *source);
	uint64_t *input = malloc((n ? n : 1) * sizeof *input);
	int ok = scored && flag && source && input;
	for (int k = 0; k < NCOL; k++)
		ok = ok && cols[k];
	for (size_t i = 0; i < n && ok; i++) {
		for (int k = 0; k < NCOL; k++)
			memcpy(&cols[k][i], (const char *)&r[i] + col[k].offset, sizeof(double));
		scored[i] = r[i].packets_scored;
		flag[i] = (uint64_t)r[i].flagged;
		source[i] = r[i].source;
		input[i] = r[i].input;
	}
	if (!ok)
		rc = -1;
	for (int k = 0; k < NCOL && rc == 0; k++)
		rc = ssmf_writer_column_f64(w, col[k].name, cols[k], n);
	if (rc == 0)
		rc = ssmf_writer_column_u64(w, "packets_scored", scored, n);
	if (rc == 0)
		rc = ssmf_writer_column_u64(w, "flagged", flag, n);
	if (rc == 0)
		rc = ssmf_writer_column_u64(w, "source", source, n);
	if (rc == 0)
		rc = ssmf_writer_column_u64(w, "input", input, n);
	for (int k = 0; k < NCOL; k++)
		free(cols[k]);
	free(scored);
	free(flag);
	free(source);
	free(input);
	if (rc == 0 && per_packet) {
		size_t np = 0;
		for (size_t i = 0; i < n; i++)
			np += r[i].packets ? r[i].packets_scored : 0;
		double *surprise = malloc((np ? np : 1) * sizeof *surprise);
		uint64_t *fid = malloc((np ? np : 1) * sizeof *fid);
		uint64_t *ts = malloc((np ? np : 1) * sizeof *ts);
		size_t k = 0;
		for (size_t i = 0; i < n && surprise && fid && ts; i++)
			for (uint64_t j = 0; r[i].packets && j < r[i].packets_scored; j++, k++) {
				const float *v = r[i].packets[j].nll;
				surprise[k] = (double)v[0] + v[1] + v[2] + v[3];
				fid[k] = r[i].s.flow_id;
				ts[k] = r[i].packets[j].ts_ns;
			}
		rc = !surprise || !fid || !ts;
		if (rc == 0)
			rc = ssmf_writer_column_f64(w, "packet_surprise", surprise, np);
		if (rc == 0)
			rc = ssmf_writer_column_u64(w, "packet_flow_id", fid, np);
		if (rc == 0)
			rc = ssmf_writer_column_u64(w, "packet_ts_ns", ts, np);
		free(surprise);
		free(fid);
		free(ts);
	}
	if (rc == 0 && hosts && hosts->n)
		rc = ssmf_write_hosts_h5(w, hosts);
	if (rc == 0)
		rc = ssmf_writer_attr_str(w, "content", "ssmflow score results");
	if (rc == 0 && isfinite(threshold))
		rc = ssmf_writer_attr_f64(w, "threshold", threshold);
	const struct ssmf_metrics *m = ev && ev->have_all ? &ev->all : NULL;
	if (rc == 0 && ev && ev->have_multi)
		rc |= ssmf_writer_attr_f64(w, "roc_auc_multi_packet", ev->multi.roc_auc);
	if (rc == 0 && ev && ev->n_inputs_auc)
		rc |= ssmf_writer_attr_f64(w, "roc_auc_mean_per_input", ev->mean_input_auc);
	if (rc == 0 && m) {
		rc |= ssmf_writer_attr_f64(w, "roc_auc", m->roc_auc);
		rc |= ssmf_writer_attr_f64(w, "pr_auc", m->pr_auc);
		rc |= ssmf_writer_attr_f64(w, "tpr_at_fpr_1e-2", m->tpr_at_fpr_1e2);
		rc |= ssmf_writer_attr_f64(w, "tpr_at_fpr_1e-3", m->tpr_at_fpr_1e3);
		rc |= ssmf_writer_attr_f64(w, "best_f1", m->best_f1);
	}
	if (rc == 0 && labels && ssmf_labels_count(labels))
		rc = ssmf_writer_label_names(w, ssmf_labels_names(labels),
		                             ssmf_labels_count(labels));
	if (rc != 0) {
		snprintf(err, errlen, "%s",
		         ssmf_writer_error(w)[0] ? ssmf_writer_error(w) : "out of memory");
		ssmf_writer_abort(w);
		return -1;
	}
	return ssmf_writer_commit(w, err, errlen);
}
