/* host_output.c - the host table in table, CSV, JSON lines and HDF5 form (host_output.h). */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score/host_output.h"

static void addr_str(const struct ssmf_host_score *h, char *buf, size_t len)
{
	if (!inet_ntop(h->ip_version == 6 ? AF_INET6 : AF_INET, h->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void ssmf_write_host_table(FILE *out, const struct ssmf_host_results *h, size_t top)
{
	if (!h->n)
		return;
	fprintf(out, "\n%4s %7s %-39s %6s %9s %5s %5s %-18s %s\n", "rank", "score", "host",
	        "source", "init/resp", "peers", "ports", "reason", "worst event");
	for (size_t i = 0; i < h->n && i < top; i++) {
		const struct ssmf_host_score *x = &h->hosts[i];
		char a[64], io[24];
		addr_str(x, a, sizeof a);
		snprintf(io, sizeof io, "%u/%u", x->flows_init, x->flows_resp);
		fprintf(out, "%4zu %7.3f %-39s %6u %9s %5u %5u %-18s %.3f\n", i + 1, x->score, a,
		        x->source, io, x->peers, x->ports, x->top_reason, x->max_event);
	}
	if (h->n > top)
		fprintf(out, "(%zu more hosts)\n", h->n - top);
}

int ssmf_write_hosts_csv(FILE *out, const struct ssmf_host_results *h)
{
	fprintf(out, "rank,address,source,flows_initiator,flows_responder,peers,ports,score,"
	             "score_role,score_size,score_interval,score_flags,activity,activity_rate,"
	             "activity_repeats,activity_new_peers,activity_returns,max_event,top_reason\n");
	for (size_t i = 0; i < h->n; i++) {
		const struct ssmf_host_score *x = &h->hosts[i];
		char a[64];
		addr_str(x, a, sizeof a);
		fprintf(out,
		        "%zu,%s,%u,%u,%u,%u,%u,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%."
		        "6f,%s\n",
		        i + 1, a, x->source, x->flows_init, x->flows_resp, x->peers, x->ports,
		        x->score, x->comp[0], x->comp[1], x->comp[2], x->comp[3], x->activity,
		        x->activity_comp[0], x->activity_comp[1], x->activity_comp[2],
		        x->activity_comp[3], x->max_event, x->top_reason);
	}
	return ferror(out) ? -1 : 0;
}

static double r6(double v)
{
	return isfinite(v) ? round(v * 1e6) / 1e6 : 0;
}

int ssmf_write_hosts_jsonl(FILE *out, const struct ssmf_host_results *h)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct ssmf_host_score *x = &h->hosts[i];
		char a[64];
		addr_str(x, a, sizeof a);
		cJSON *o = cJSON_CreateObject(), *c = cJSON_CreateObject(),
		      *ac = cJSON_CreateObject();
		if (!o || !c || !ac) {
			cJSON_Delete(o);
			cJSON_Delete(c);
			cJSON_Delete(ac);
			return -1;
		}
		cJSON_AddStringToObject(o, "event_type", "host");
		cJSON_AddNumberToObject(o, "rank", (double)(i + 1));
		cJSON_AddStringToObject(o, "address", a);
		cJSON_AddNumberToObject(o, "source", x->source);
		cJSON_AddNumberToObject(o, "flows_initiator", x->flows_init);
		cJSON_AddNumberToObject(o, "flows_responder", x->flows_resp);
		cJSON_AddNumberToObject(o, "peers", x->peers);
		cJSON_AddNumberToObject(o, "ports", x->ports);
		cJSON_AddNumberToObject(o, "score", r6(x->score));
		for (int k = 0; k < SSMF_N_COMP; k++)
			cJSON_AddNumberToObject(c, ssmf_host_comp_names[k], r6(x->comp[k]));
		cJSON_AddItemToObject(o, "components", c);
		cJSON_AddNumberToObject(o, "activity", r6(x->activity));
		for (int k = 0; k < SSMF_PROFILE_N; k++)
			cJSON_AddNumberToObject(ac, ssmf_profile_names[k], r6(x->activity_comp[k]));
		cJSON_AddItemToObject(o, "activity_components", ac);
		cJSON_AddNumberToObject(o, "max_event", r6(x->max_event));
		cJSON_AddStringToObject(o, "top_reason", x->top_reason);
		char *line = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!line)
			return -1;
		fprintf(out, "%s\n", line);
		cJSON_free(line);
	}
	return ferror(out) ? -1 : 0;
}

int ssmf_write_hosts_h5(struct ssmf_writer *w, const struct ssmf_host_results *h)
{
	size_t n = h->n, m = n ? n : 1;
	char **addr = calloc(m, sizeof *addr);
	const char **reason = calloc(m, sizeof *reason);
	uint64_t *u[5];
	enum { NF = SSMF_N_COMP + 3 + SSMF_PROFILE_N };
	double *f[NF];
	int rc = !addr || !reason;
	for (int k = 0; k < 5; k++)
		rc |= !(u[k] = malloc(m * sizeof **u));
	for (int k = 0; k < NF; k++)
		rc |= !(f[k] = malloc(m * sizeof **f));
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct ssmf_host_score *x = &h->hosts[i];
		if (!(addr[i] = malloc(64))) {
			rc = -1;
			break;
		}
		addr_str(x, addr[i], 64);
		reason[i] = x->top_reason;
		u[0][i] = x->source;
		u[1][i] = x->flows_init;
		u[2][i] = x->flows_resp;
		u[3][i] = x->peers;
		u[4][i] = x->ports;
		f[0][i] = x->score;
		f[1][i] = x->max_event;
		for (int k = 0; k < SSMF_N_COMP; k++)
			f[2 + k][i] = x->comp[k];
		f[2 + SSMF_N_COMP][i] = x->activity;
		for (int k = 0; k < SSMF_PROFILE_N; k++)
			f[3 + SSMF_N_COMP + k][i] = x->activity_comp[k];
	}
	static const char *const un[5] = {"hosts_source", "hosts_flows_initiator",
	                                  "hosts_flows_responder", "hosts_peers", "hosts_ports"};
	static const char *const fn[NF] = {"hosts_score",
	                                   "hosts_max_event",
	                                   "hosts_score_role",
	                                   "hosts_score_size",
	                                   "hosts_score_interval",
	                                   "hosts_score_flags",
	                                   "hosts_activity",
	                                   "hosts_activity_rate",
	                                   "hosts_activity_repeats",
	                                   "hosts_activity_new_peers",
	                                   "hosts_activity_returns"};
	if (rc == 0)
		rc = ssmf_writer_column_str(w, "hosts_address", (const char *const *)addr, n);
	if (rc == 0)
		rc = ssmf_writer_column_str(w, "hosts_top_reason", reason, n);
	for (int k = 0; rc == 0 && k < 5; k++)
		rc = ssmf_writer_column_u64(w, un[k], u[k], n);
	for (int k = 0; rc == 0 && k < NF; k++)
		rc = ssmf_writer_column_f64(w, fn[k], f[k], n);
	for (size_t i = 0; addr && i < n; i++)
		free(addr[i]);
	free(addr);
	free(reason);
	for (int k = 0; k < 5; k++)
		free(u[k]);
	for (int k = 0; k < NF; k++)
		free(f[k]);
	return rc ? -1 : 0;
}
