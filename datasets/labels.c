/* labels.c - the label table: names, file entries, BPF rules and input globs, and the
 * lookup of a flow's label. The label files' parsers are label_files.c. */
#include "datasets/labels.h"
#include "datasets/labels_internal.h"

#include <fnmatch.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct entry {
	uint8_t a[16], b[16]; /* endpoints, a <= b by (address, port) */
	uint16_t pa, pb;      /* ports; 0 with wild = 1 means any */
	uint8_t proto, wild_ports, has_window;
	int64_t start_ns, end_ns;
	int32_t label;
};

struct rule {
	int32_t label;
	struct bpf_program prog;
};

struct glob {
	int32_t label;
	char *pattern;
};

struct ssmf_labels {
	struct ssmf_label_opts o;
	char **names;
	size_t nnames;
	struct entry *entries;
	size_t nentries, cap;
	int sorted;
	struct rule *rules;
	size_t nrules;
	struct glob *globs;
	size_t nglobs;
	pcap_t *dead; /* compiles BPF rules for Ethernet frames */
};

void ssmf_label_opts_default(struct ssmf_label_opts *o)
{
	o->slack_s = -1;
	o->utc_offset_h = 0;
	o->mdy = 0;
}

struct ssmf_labels *ssmf_labels_new(const struct ssmf_label_opts *o)
{
	struct ssmf_labels *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->o = *o;
	return l;
}

void ssmf_labels_free(struct ssmf_labels *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nnames; i++)
		free(l->names[i]);
	free(l->names);
	free(l->entries);
	for (size_t i = 0; i < l->nrules; i++)
		pcap_freecode(&l->rules[i].prog);
	free(l->rules);
	for (size_t i = 0; i < l->nglobs; i++)
		free(l->globs[i].pattern);
	free(l->globs);
	if (l->dead)
		pcap_close(l->dead);
	free(l);
}

/* The negative class, for training's supervised target and score's evaluation alike; the
 * man pages (ssmflow-train --supervised, ssmflow-score EVALUATION) list the same names. */
static const char *const benign_names[] = {"benign", "normal", "background", "legitimate"};

int ssmf_label_is_benign(const char *name)
{
	for (size_t i = 0; i < sizeof benign_names / sizeof *benign_names; i++)
		if (strcasecmp(name, benign_names[i]) == 0)
			return 1;
	return 0;
}

static int32_t label_id(struct ssmf_labels *l, const char *name)
{
	for (size_t i = 0; i < l->nnames; i++)
		if (strcmp(l->names[i], name) == 0)
			return (int32_t)i;
	char **n = realloc(l->names, (l->nnames + 2) * sizeof *n);
	if (!n)
		return -1;
	l->names = n;
	if (!(n[l->nnames] = strdup(name)))
		return -1;
	n[l->nnames + 1] = NULL;
	return (int32_t)l->nnames++;
}

int32_t ssmf_labels_intern(struct ssmf_labels *l, const char *name)
{
	return label_id(l, name);
}

size_t ssmf_labels_count(const struct ssmf_labels *l)
{
	return l->nnames;
}

const char *ssmf_labels_name(const struct ssmf_labels *l, int32_t id)
{
	return id >= 0 && (size_t)id < l->nnames ? l->names[id] : "";
}

const char *const *ssmf_labels_names(const struct ssmf_labels *l)
{
	return (const char *const *)l->names;
}

int ssmf_labels_active(const struct ssmf_labels *l)
{
	return l->nentries || l->nrules || l->nglobs;
}

int ssmf_labels_add_entry(struct ssmf_labels *l, const struct ssmf_label_row *r)
{
	if (l->nentries == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		struct entry *n = realloc(l->entries, ncap * sizeof *n);
		if (!n)
			return -1;
		l->entries = n;
		l->cap = ncap;
	}
	struct entry *e = &l->entries[l->nentries];
	memset(e, 0, sizeof *e);
	const uint8_t *s = r->src, *d = r->dst;
	uint16_t sp = r->sport, dp = r->dport;
	int c = memcmp(s, d, 16);
	int s_lo = c < 0 || (c == 0 && sp <= dp);
	memcpy(e->a, s_lo ? s : d, 16);
	memcpy(e->b, s_lo ? d : s, 16);
	e->pa = s_lo ? sp : dp;
	e->pb = s_lo ? dp : sp;
	e->proto = r->proto;
	e->wild_ports = (uint8_t)r->wild_ports;
	e->start_ns = r->start_ns;
	e->end_ns = r->end_ns;
	e->has_window = (uint8_t)r->has_window;
	if ((e->label = label_id(l, r->label)) < 0)
		return -1;
	l->nentries++;
	l->sorted = 0;
	return 0;
}

size_t ssmf_labels_nentries(const struct ssmf_labels *l)
{
	return l->nentries;
}

const struct ssmf_label_opts *ssmf_labels_opts(const struct ssmf_labels *l)
{
	return &l->o;
}

static int split_spec(const char *spec, char *name, size_t nlen, const char **rest)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || (size_t)(eq - spec) >= nlen || !eq[1])
		return -1;
	memcpy(name, spec, (size_t)(eq - spec));
	name[eq - spec] = 0;
	*rest = eq + 1;
	return 0;
}

int ssmf_labels_add_rule(struct ssmf_labels *l, const char *spec, char *err, size_t errlen)
{
	char name[256];
	const char *expr;
	if (split_spec(spec, name, sizeof name, &expr)) {
		snprintf(err, errlen, "bad label rule '%s': expected NAME=BPF-EXPRESSION", spec);
		return -1;
	}
	if (!l->dead && !(l->dead = pcap_open_dead(DLT_EN10MB, 65535))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct rule r = {.label = label_id(l, name)};
	if (pcap_compile(l->dead, &r.prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad label rule '%s': %s", spec, pcap_geterr(l->dead));
		return -1;
	}
	struct rule *n = realloc(l->rules, (l->nrules + 1) * sizeof *n);
	if (!n) {
		pcap_freecode(&r.prog);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->rules = n;
	l->rules[l->nrules++] = r;
	return 0;
}

int ssmf_labels_add_input_glob(struct ssmf_labels *l, const char *spec, char *err, size_t errlen)
{
	char name[256];
	const char *pattern;
	if (split_spec(spec, name, sizeof name, &pattern)) {
		snprintf(err, errlen, "bad input label '%s': expected NAME=GLOB", spec);
		return -1;
	}
	struct glob *n = realloc(l->globs, (l->nglobs + 1) * sizeof *n);
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->globs = n;
	l->globs[l->nglobs].label = label_id(l, name);
	l->globs[l->nglobs].pattern = strdup(pattern);
	l->nglobs++;
	return 0;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c = memcmp(a->a, b->a, 16);
	if (!c)
		c = memcmp(a->b, b->b, 16);
	if (!c)
		c = (int)a->proto - (int)b->proto;
	if (!c)
		c = (int)a->wild_ports - (int)b->wild_ports;
	if (!c)
		c = (int)a->pa - (int)b->pa;
	if (!c)
		c = (int)a->pb - (int)b->pb;
	if (!c)
		c = a->start_ns < b->start_ns ? -1 : a->start_ns > b->start_ns;
	return c;
}

/* Builds an Ethernet + IP + L4 header from the flow's key for the BPF rules. */
static size_t synth_packet(const struct ssmf_flow_summary *s, uint8_t *p)
{
	memset(p, 0, 80);
	size_t n = 14;
	p[12] = s->ip_version == 6 ? 0x86 : 0x08;
	p[13] = s->ip_version == 6 ? 0xdd : 0x00;
	size_t l4 = s->protocol == 6 ? 20 : 8;
	if (s->ip_version == 6) {
		p[n] = 0x60;
		p[n + 4] = 0;
		p[n + 5] = (uint8_t)l4;
		p[n + 6] = s->protocol;
		p[n + 7] = 64;
		memcpy(p + n + 8, s->src_addr, 16);
		memcpy(p + n + 24, s->dst_addr, 16);
		n += 40;
	} else {
		p[n] = 0x45;
		p[n + 3] = (uint8_t)(20 + l4);
		p[n + 8] = 64;
		p[n + 9] = s->protocol;
		memcpy(p + n + 12, s->src_addr, 4);
		memcpy(p + n + 16, s->dst_addr, 4);
		n += 20;
	}
	p[n] = (uint8_t)(s->src_port >> 8);
	p[n + 1] = (uint8_t)s->src_port;
	p[n + 2] = (uint8_t)(s->dst_port >> 8);
	p[n + 3] = (uint8_t)s->dst_port;
	if (s->protocol == 6)
		p[n + 12] = 0x50;
	return n + l4;
}

int32_t ssmf_labels_lookup(const struct ssmf_labels *lc, const struct ssmf_flow_summary *s,
                           const char *input)
{
	struct ssmf_labels *l = (struct ssmf_labels *)lc; /* sorts lazily */
	if (l->nentries) {
		if (!l->sorted) {
			qsort(l->entries, l->nentries, sizeof *l->entries, entry_cmp);
			l->sorted = 1;
		}
		int c = memcmp(s->src_addr, s->dst_addr, 16);
		int s_lo = c < 0 || (c == 0 && s->src_port <= s->dst_port);
		struct entry key = {0};
		memcpy(key.a, s_lo ? s->src_addr : s->dst_addr, 16);
		memcpy(key.b, s_lo ? s->dst_addr : s->src_addr, 16);
		key.proto = s->protocol;
		int64_t first = (int64_t)s->first_ts_ns, last = (int64_t)s->last_ts_ns;
		int64_t slack = l->o.slack_s >= 0 ? (int64_t)(l->o.slack_s * 1e9) : -1;
		int32_t best = SSMF_LABEL_NONE;
		int64_t best_dist = INT64_MAX;
		for (int wild = 0; wild <= 1; wild++) {
			key.wild_ports = (uint8_t)wild;
			key.pa = wild ? 0 : (s_lo ? s->src_port : s->dst_port);
			key.pb = wild ? 0 : (s_lo ? s->dst_port : s->src_port);
			key.start_ns = INT64_MIN;
			/* lower bound of (key, any start) */
			size_t lo = 0, hi = l->nentries;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (entry_cmp(&l->entries[mid], &key) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (size_t i = lo; i < l->nentries; i++) {
				const struct entry *e = &l->entries[i];
				struct entry k2 = *e;
				k2.start_ns = INT64_MIN;
				if (entry_cmp(&k2, &key) != 0)
					break;
				if (slack >= 0 && e->has_window &&
				    (e->start_ns - slack > last || e->end_ns + slack < first))
					continue;
				int64_t dist =
				    e->has_window ? llabs(e->start_ns - first) : INT64_MAX - 1;
				if (dist < best_dist) {
					best_dist = dist;
					best = e->label;
				}
			}
			if (best != SSMF_LABEL_NONE)
				return best;
		}
	}
	if (l->nrules && (s->ip_version == 4 || s->ip_version == 6)) {
		uint8_t pkt[80];
		struct pcap_pkthdr h = {0};
		h.caplen = h.len = (bpf_u_int32)synth_packet(s, pkt);
		for (size_t i = 0; i < l->nrules; i++)
			if (pcap_offline_filter(&l->rules[i].prog, &h, pkt))
				return l->rules[i].label;
	}
	if (input)
		for (size_t i = 0; i < l->nglobs; i++)
			if (fnmatch(l->globs[i].pattern, input, 0) == 0)
				return l->globs[i].label;
	return SSMF_LABEL_NONE;
}
