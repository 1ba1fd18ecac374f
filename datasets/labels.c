#include "datasets/labels.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

/* ---- parsing helpers ---- */

static char *trim(char *s)
{
	while (isspace((unsigned char)*s) || (unsigned char)*s == 0xef ||
	       (unsigned char)*s == 0xbb ||
	       (unsigned char)*s == 0xbf) /* also a UTF-8 byte order mark */
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

/* Splits a CSV line in place (RFC 4180 quotes); returns the field count. */
static int split_csv(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;
	while (n < max) {
		char *out = p;
		f[n++] = p;
		if (*p == '"') {
			char *q = p + 1;
			for (;;) {
				if (*q == '"' && q[1] == '"') {
					*out++ = '"';
					q += 2;
				} else if (*q == '"' || !*q) {
					if (*q)
						q++;
					break;
				} else {
					*out++ = *q++;
				}
			}
			p = q;
		} else {
			while (*p && *p != ',')
				*out++ = *p++;
		}
		char sep = *p;
		*out = 0;
		if (sep != ',')
			break;
		p++;
		if (p > out)
			*out = 0;
	}
	for (int i = 0; i < n; i++)
		f[i] = trim(f[i]);
	return n;
}

static int split_tabs(char *line, char **f, int max)
{
	int n = 0;
	for (char *p = line; n < max;) {
		f[n++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			break;
		*t = 0;
		p = t + 1;
	}
	return n;
}

static int parse_addr(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 6;
	return 0;
}

static int parse_port(const char *s, uint16_t *p)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 65535)
		return -1;
	*p = (uint16_t)v;
	return 0;
}

static int parse_proto(const char *s, uint8_t *p)
{
	if (strcasecmp(s, "tcp") == 0)
		return *p = 6, 0;
	if (strcasecmp(s, "udp") == 0)
		return *p = 17, 0;
	if (strcasecmp(s, "icmp") == 0)
		return *p = 1, 0;
	if (strcasecmp(s, "icmpv6") == 0 || strcasecmp(s, "icmp6") == 0)
		return *p = 58, 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || v > 255)
		return -1;
	*p = (uint8_t)v;
	return 0;
}

static int parse_epoch_ns(const char *s, int64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	/* past 9e9 s (year 2255) the nanoseconds do not fit in an int64 */
	if (!*s || *end || errno || !isfinite(v) || v < 0 || v > 9e9)
		return -1;
	*ns = (int64_t)llround(v * 1e9);
	return 0;
}

/* CICFlowMeter local time: "dd/mm/yyyy HH:MM[:SS][ AM|PM]" or "yyyy-mm-dd HH:MM:SS[.f]". */
static int parse_cic_time(const char *s, const struct ssmf_label_opts *o, int64_t *ns)
{
	struct tm tm = {0};
	int a, b, y, H = 0, M = 0;
	double S = 0;
	char ampm[3] = "";
	if (sscanf(s, "%d-%d-%d %d:%d:%lf", &y, &a, &b, &H, &M, &S) >= 5 && y > 1900) {
		tm.tm_mon = a - 1;
		tm.tm_mday = b;
	} else if (sscanf(s, "%d/%d/%d %d:%d:%lf %2s", &a, &b, &y, &H, &M, &S, ampm) >= 5 ||
	           sscanf(s, "%d/%d/%d %d:%d %2s", &a, &b, &y, &H, &M, ampm) >= 5) {
		tm.tm_mday = o->mdy ? b : a;
		tm.tm_mon = (o->mdy ? a : b) - 1;
		if (strcasecmp(ampm, "PM") == 0 && H < 12)
			H += 12;
		if (strcasecmp(ampm, "AM") == 0 && H == 12)
			H = 0;
	} else {
		return -1;
	}
	/* years far from now would overflow the nanoseconds below (int64: 1678..2262) */
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || H < 0 ||
	    H > 23 || M < 0 || M > 59 || S < 0 || S >= 61 || y < 1900 || y > 2200)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_hour = H;
	tm.tm_min = M;
	time_t t = timegm(&tm);
	*ns = ((int64_t)t - (int64_t)llround(o->utc_offset_h * 3600)) * 1000000000ll +
	      (int64_t)llround(S * 1e9);
	return 0;
}

static int add_entry(struct ssmf_labels *l, const uint8_t *s, uint16_t sp, const uint8_t *d,
                     uint16_t dp, uint8_t proto, int wild, int64_t start, int64_t end, int has_win,
                     const char *label)
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
	int c = memcmp(s, d, 16);
	int s_lo = c < 0 || (c == 0 && sp <= dp);
	memcpy(e->a, s_lo ? s : d, 16);
	memcpy(e->b, s_lo ? d : s, 16);
	e->pa = s_lo ? sp : dp;
	e->pb = s_lo ? dp : sp;
	e->proto = proto;
	e->wild_ports = (uint8_t)wild;
	e->start_ns = start;
	e->end_ns = end;
	e->has_window = (uint8_t)has_win;
	if ((e->label = label_id(l, label)) < 0)
		return -1;
	l->nentries++;
	l->sorted = 0;
	return 0;
}

enum fmt { FMT_NATIVE, FMT_CIC, FMT_ZEEK };

static int col(char **names, int n, const char *want)
{
	for (int i = 0; i < n; i++)
		if (strcasecmp(names[i], want) == 0)
			return i;
	return -1;
}

#define MAX_COLS 128
#define LFAIL(...)                                                                                 \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		goto fail;                                                                         \
	} while (0)

int ssmf_labels_load(struct ssmf_labels *l, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL, *hdr = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	enum fmt fmt = FMT_NATIVE;
	char *names[MAX_COLS], *fields[MAX_COLS];
	int ncols = 0;
	int c_src = -1, c_dst = -1, c_sp = -1, c_dp = -1, c_proto = -1, c_start = -1, c_end = -1,
	    c_dur = -1, c_label = -1;
	size_t before = l->nentries;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!hdr) { /* header: recognise the format */
			if (strncmp(line, "#separator", 10) == 0 ||
			    strncmp(line, "#set_separator", 14) == 0 ||
			    strncmp(line, "#empty_field", 12) == 0 ||
			    strncmp(line, "#unset_field", 12) == 0 ||
			    strncmp(line, "#path", 5) == 0 || strncmp(line, "#open", 5) == 0 ||
			    strncmp(line, "#types", 6) == 0) {
				fmt = FMT_ZEEK;
				continue;
			}
			if (!*trim(line))
				continue;
			hdr = strdup(line);
			if (!hdr)
				LFAIL("%s: out of memory", path);
			if (strncmp(hdr, "#fields", 7) == 0) {
				fmt = FMT_ZEEK;
				/* Zeek separates by tabs; Stratosphere's labelled logs have
				 * spaces before their added label columns. */
				for (char *p = hdr; *p; p++)
					if (*p == ' ')
						*p = '\t';
				char *tmp[MAX_COLS];
				int n = split_tabs(hdr, tmp, MAX_COLS);
				ncols = 0;
				for (int i = 1; i < n; i++)
					if (*tmp[i])
						names[ncols++] = tmp[i];
				c_src = col(names, ncols, "id.orig_h");
				c_sp = col(names, ncols, "id.orig_p");
				c_dst = col(names, ncols, "id.resp_h");
				c_dp = col(names, ncols, "id.resp_p");
				c_proto = col(names, ncols, "proto");
				c_start = col(names, ncols, "ts");
				c_dur = col(names, ncols, "duration");
				c_label = col(names, ncols, "label");
			} else {
				ncols = split_csv(hdr, names, MAX_COLS);
				if (col(names, ncols, "Source IP") >= 0) {
					fmt = FMT_CIC;
					c_src = col(names, ncols, "Source IP");
					c_sp = col(names, ncols, "Source Port");
					c_dst = col(names, ncols, "Destination IP");
					c_dp = col(names, ncols, "Destination Port");
					c_proto = col(names, ncols, "Protocol");
					c_start = col(names, ncols, "Timestamp");
					c_dur = col(names, ncols, "Flow Duration");
					c_label = col(names, ncols, "Label");
				} else {
					c_src = col(names, ncols, "src");
					c_dst = col(names, ncols, "dst");
					c_sp = col(names, ncols, "sport");
					c_dp = col(names, ncols, "dport");
					c_proto = col(names, ncols, "proto");
					c_start = col(names, ncols, "start");
					c_end = col(names, ncols, "end");
					c_label = col(names, ncols, "label");
				}
			}
			if (c_src < 0 || c_dst < 0 || c_proto < 0 || c_label < 0)
				LFAIL("%s:%ld: not a label file: the header needs %s", path, lineno,
				      fmt == FMT_ZEEK ? "id.orig_h, id.resp_h, proto and label"
				      : fmt == FMT_CIC
				          ? "Source IP, Destination IP, Protocol and Label"
				          : "src, dst, proto and label (native CSV; also "
				            "sport, dport, start, end)");
			continue;
		}
		if (fmt == FMT_ZEEK && line[0] == '#')
			continue;
		if (!*trim(line))
			continue;
		int n;
		if (fmt == FMT_ZEEK) {
			for (char *p = line; *p; p++)
				if (*p == ' ')
					*p = '\t';
			char *tmp[MAX_COLS];
			int m = split_tabs(line, tmp, MAX_COLS);
			n = 0;
			for (int i = 0; i < m; i++)
				if (*tmp[i])
					fields[n++] = tmp[i];
		} else {
			n = split_csv(line, fields, MAX_COLS);
		}
		if (n < ncols)
			LFAIL("%s:%ld: %d fields, the header has %d", path, lineno, n, ncols);
		uint8_t s[16], d[16], proto;
		uint16_t sp = 0, dp = 0;
		int vs = parse_addr(fields[c_src], s), vd = parse_addr(fields[c_dst], d);
		if (!vs || vs != vd)
			LFAIL("%s:%ld: bad address pair '%s', '%s'", path, lineno, fields[c_src],
			      fields[c_dst]);
		if (parse_proto(fields[c_proto], &proto))
			LFAIL("%s:%ld: bad protocol '%s'", path, lineno, fields[c_proto]);
		int wild = (c_sp < 0 || !*fields[c_sp] || strcmp(fields[c_sp], "-") == 0) &&
		           (c_dp < 0 || !*fields[c_dp] || strcmp(fields[c_dp], "-") == 0);
		if (!wild && ((c_sp >= 0 && parse_port(fields[c_sp], &sp)) ||
		              (c_dp >= 0 && parse_port(fields[c_dp], &dp))))
			LFAIL("%s:%ld: bad port '%s' or '%s'", path, lineno,
			      c_sp >= 0 ? fields[c_sp] : "", c_dp >= 0 ? fields[c_dp] : "");
		int64_t start = 0, end = 0;
		int has_win = 0;
		if (c_start >= 0 && *fields[c_start] && strcmp(fields[c_start], "-") != 0) {
			int bad = fmt == FMT_CIC ? parse_cic_time(fields[c_start], &l->o, &start)
			                         : parse_epoch_ns(fields[c_start], &start);
			if (bad)
				LFAIL("%s:%ld: bad time '%s'", path, lineno, fields[c_start]);
			has_win = 1;
			end = start;
			if (c_end >= 0 && *fields[c_end]) {
				if (parse_epoch_ns(fields[c_end], &end) || end < start)
					LFAIL("%s:%ld: bad end time '%s'", path, lineno,
					      fields[c_end]);
			} else if (c_dur >= 0 && *fields[c_dur] &&
			           strcmp(fields[c_dur], "-") != 0) {
				char *e;
				double dur = strtod(fields[c_dur], &e);
				/* longer than ~3 years is not a flow, and would overflow end */
				if (*e || !isfinite(dur) ||
				    dur * (fmt == FMT_CIC ? 1e3 : 1e9) > 1e17)
					LFAIL("%s:%ld: bad duration '%s'", path, lineno,
					      fields[c_dur]);
				if (dur < 0) /* CICFlowMeter writes -1 for some flows */
					dur = 0;
				/* CICFlowMeter durations are in microseconds, Zeek's in seconds */
				end = start + (int64_t)(dur * (fmt == FMT_CIC ? 1e3 : 1e9));
			}
		}
		const char *label = trim(fields[c_label]);
		if (!*label || strcmp(label, "-") == 0)
			continue;
		if (add_entry(l, s, sp, d, dp, proto, wild, start, end, has_win, label))
			LFAIL("%s: out of memory", path);
	}
	if (!hdr)
		LFAIL("%s:%ld: empty label file (no header)", path, lineno);
	if (l->nentries == before)
		LFAIL("%s: no labelled rows", path);
	free(line);
	free(hdr);
	fclose(f);
	return 0;
fail:
	free(line);
	free(hdr);
	fclose(f);
	return -1;
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
