/* label_files.c - label files into the label table: one parser per format behind a table
 * of {name, detect, split, columns, time} (like libpcap's savefile check_headers[]). The
 * first format whose detect accepts the header line reads the file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "datasets/label_text.h"
#include "datasets/labels.h"
#include "datasets/labels_internal.h"

/* The columns a row may have, by meaning. */
enum column {
	C_SRC,
	C_DST,
	C_SPORT,
	C_DPORT,
	C_PROTO,
	C_START,
	C_END,
	C_DURATION,
	C_LABEL,
	N_COLUMNS
};

struct label_format {
	const char *name;
	/* Whether the header line is this format's; prelude: Zeek's #separator-style lines
	 * came before it. */
	int (*detect)(const char *header, int prelude);
	int (*split_header)(char *line, char **f, int max);
	int (*split_row)(char *line, char **f, int max);
	int comment_rows;               /* rows starting with # are skipped */
	const char *columns[N_COLUMNS]; /* header names (any case); NULL: no such column */
	int (*parse_time)(const char *s, const struct ssmf_label_opts *o, int64_t *ns);
	double duration_ns; /* one unit of the duration column */
	const char *needs;  /* the header's required columns, for the error */
};

static int split_zeek_header(char *line, char **f, int max)
{
	return ssmf_lt_split_zeek(line, f, max, 1); /* past "#fields" */
}

static int split_zeek_row(char *line, char **f, int max)
{
	return ssmf_lt_split_zeek(line, f, max, 0);
}

static int column_of(char **names, int n, const char *want)
{
	for (int i = 0; i < n; i++)
		if (strcasecmp(names[i], want) == 0)
			return i;
	return -1;
}

static int is_zeek(const char *header, int prelude)
{
	(void)prelude;
	return strncmp(header, "#fields", 7) == 0;
}

static int is_cic(const char *header, int prelude)
{
	(void)prelude;
	char *copy = strdup(header), *names[SSMF_LT_MAX_FIELDS];
	int found = copy && column_of(names, ssmf_lt_split_csv(copy, names, SSMF_LT_MAX_FIELDS),
	                              "Source IP") >= 0;
	free(copy);
	return found;
}

static int after_zeek_prelude(const char *header, int prelude)
{
	(void)header;
	return prelude;
}

static int any_header(const char *header, int prelude)
{
	(void)header, (void)prelude;
	return 1;
}

#define NATIVE_COLUMNS                                                                             \
	{                                                                                          \
		"src", "dst", "sport", "dport", "proto", "start", "end", NULL, "label"             \
	}
#define ZEEK_NEEDS "id.orig_h, id.resp_h, proto and label"

/* In order: the first whose detect accepts the header wins. */
static const struct label_format formats[] = {
    {.name = "Zeek conn.log",
     .detect = is_zeek,
     .split_header = split_zeek_header,
     .split_row = split_zeek_row,
     .comment_rows = 1,
     .columns = {"id.orig_h", "id.resp_h", "id.orig_p", "id.resp_p", "proto", "ts", NULL,
                 "duration", "label"},
     .parse_time = ssmf_lt_parse_epoch,
     .duration_ns = 1e9,
     .needs = ZEEK_NEEDS},
    {.name = "CICFlowMeter CSV",
     .detect = is_cic,
     .split_header = ssmf_lt_split_csv,
     .split_row = ssmf_lt_split_csv,
     .columns = {"Source IP", "Destination IP", "Source Port", "Destination Port", "Protocol",
                 "Timestamp", NULL, "Flow Duration", "Label"},
     .parse_time = ssmf_lt_parse_cic_time, /* local time: --label-utc-offset, --label-mdy */
     .duration_ns = 1e3,                   /* microseconds */
     .needs = "Source IP, Destination IP, Protocol and Label"},
    /* Zeek's metadata lines, then a CSV header of native names: rows are read as Zeek's
     * (how the loader always took such files). */
    {.name = "Zeek log with a CSV header",
     .detect = after_zeek_prelude,
     .split_header = ssmf_lt_split_csv,
     .split_row = split_zeek_row,
     .comment_rows = 1,
     .columns = NATIVE_COLUMNS,
     .parse_time = ssmf_lt_parse_epoch,
     .duration_ns = 1e9,
     .needs = ZEEK_NEEDS},
    {.name = "native CSV",
     .detect = any_header,
     .split_header = ssmf_lt_split_csv,
     .split_row = ssmf_lt_split_csv,
     .columns = NATIVE_COLUMNS,
     .parse_time = ssmf_lt_parse_epoch,
     .duration_ns = 1e9,
     .needs = "src, dst, proto and label (native CSV; also sport, dport, start, end)"},
};

/* Zeek's metadata lines before #fields. */
static int zeek_prelude_line(const char *line)
{
	static const char *const starts[] = {"#separator",   "#set_separator", "#empty_field",
	                                     "#unset_field", "#path",          "#open",
	                                     "#types"};
	for (size_t i = 0; i < sizeof starts / sizeof *starts; i++)
		if (strncmp(line, starts[i], strlen(starts[i])) == 0)
			return 1;
	return 0;
}

/* A file being read: its format, its header's column indices (-1: absent), where we are. */
struct reader {
	const char *path;
	long lineno;
	const struct label_format *fmt;
	char *header; /* the header line; names point into it */
	int ncols;
	int col[N_COLUMNS];
};

static const char *field(const struct reader *r, char **fields, enum column c)
{
	return r->col[c] >= 0 ? fields[r->col[c]] : NULL;
}

static int absent(const char *s)
{
	return !s || !*s || strcmp(s, "-") == 0;
}

/* Recognises the format from the header line and finds its columns. */
static int read_header(struct reader *r, const char *line, int prelude, char *err, size_t errlen)
{
	if (!(r->header = strdup(line))) {
		snprintf(err, errlen, "%s: out of memory", r->path);
		return -1;
	}
	for (size_t i = 0; !r->fmt; i++)
		if (formats[i].detect(line, prelude))
			r->fmt = &formats[i];
	char *names[SSMF_LT_MAX_FIELDS];
	r->ncols = r->fmt->split_header(r->header, names, SSMF_LT_MAX_FIELDS);
	for (int c = 0; c < N_COLUMNS; c++)
		r->col[c] =
		    r->fmt->columns[c] ? column_of(names, r->ncols, r->fmt->columns[c]) : -1;
	if (r->col[C_SRC] < 0 || r->col[C_DST] < 0 || r->col[C_PROTO] < 0 || r->col[C_LABEL] < 0) {
		snprintf(err, errlen, "%s:%ld: not a label file: the header needs %s", r->path,
		         r->lineno, r->fmt->needs);
		return -1;
	}
	return 0;
}

#define ROW_FAIL(...)                                                                              \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return -1;                                                                         \
	} while (0)

/* The time window of a row: none without a start; else start .. end, or start + duration. */
static int row_window(const struct reader *r, char **fields, const struct ssmf_label_opts *o,
                      struct ssmf_label_row *row, char *err, size_t errlen)
{
	const char *start = field(r, fields, C_START), *end = field(r, fields, C_END);
	const char *dur_s = field(r, fields, C_DURATION);
	if (absent(start))
		return 0;
	if (r->fmt->parse_time(start, o, &row->start_ns))
		ROW_FAIL("%s:%ld: bad time '%s'", r->path, r->lineno, start);
	row->has_window = 1;
	row->end_ns = row->start_ns;
	if (end && *end) {
		if (ssmf_lt_parse_epoch(end, o, &row->end_ns) || row->end_ns < row->start_ns)
			ROW_FAIL("%s:%ld: bad end time '%s'", r->path, r->lineno, end);
	} else if (!absent(dur_s)) {
		char *e;
		double dur = strtod(dur_s, &e);
		/* longer than ~3 years is not a flow, and would overflow end */
		if (*e || !isfinite(dur) || dur * r->fmt->duration_ns > 1e17)
			ROW_FAIL("%s:%ld: bad duration '%s'", r->path, r->lineno, dur_s);
		if (dur < 0) /* CICFlowMeter writes -1 for some flows */
			dur = 0;
		row->end_ns = row->start_ns + (int64_t)(dur * r->fmt->duration_ns);
	}
	return 0;
}

/* One data row into the table: 0, or -1 with "FILE:LINE: reason". */
static int read_row(const struct reader *r, struct ssmf_labels *l, char *line, char *err,
                    size_t errlen)
{
	char *fields[SSMF_LT_MAX_FIELDS];
	int n = r->fmt->split_row(line, fields, SSMF_LT_MAX_FIELDS);
	if (n < r->ncols)
		ROW_FAIL("%s:%ld: %d fields, the header has %d", r->path, r->lineno, n, r->ncols);
	struct ssmf_label_row row = {0};
	const char *src = field(r, fields, C_SRC), *dst = field(r, fields, C_DST);
	const char *proto = field(r, fields, C_PROTO);
	const char *sport = field(r, fields, C_SPORT), *dport = field(r, fields, C_DPORT);
	int vs = ssmf_lt_parse_addr(src, row.src), vd = ssmf_lt_parse_addr(dst, row.dst);
	if (!vs || vs != vd)
		ROW_FAIL("%s:%ld: bad address pair '%s', '%s'", r->path, r->lineno, src, dst);
	if (ssmf_lt_parse_proto(proto, &row.proto))
		ROW_FAIL("%s:%ld: bad protocol '%s'", r->path, r->lineno, proto);
	row.wild_ports = absent(sport) && absent(dport);
	if (!row.wild_ports && ((sport && ssmf_lt_parse_port(sport, &row.sport)) ||
	                        (dport && ssmf_lt_parse_port(dport, &row.dport))))
		ROW_FAIL("%s:%ld: bad port '%s' or '%s'", r->path, r->lineno, sport ? sport : "",
		         dport ? dport : "");
	if (row_window(r, fields, ssmf_labels_opts(l), &row, err, errlen))
		return -1;
	row.label = ssmf_lt_trim(fields[r->col[C_LABEL]]);
	if (!*row.label || strcmp(row.label, "-") == 0)
		return 0;
	if (ssmf_labels_add_entry(l, &row))
		ROW_FAIL("%s: out of memory", r->path);
	return 0;
}

int ssmf_labels_load(struct ssmf_labels *l, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct reader r = {.path = path};
	char *line = NULL;
	size_t cap = 0, before = ssmf_labels_nentries(l);
	ssize_t len;
	int prelude = 0, rc = 0;
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		r.lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!r.fmt && zeek_prelude_line(line)) {
			prelude = 1;
			continue;
		}
		if (r.fmt && r.fmt->comment_rows && line[0] == '#')
			continue;
		if (!*ssmf_lt_trim(line)) /* cuts trailing space; a row keeps its leading space */
			continue;
		rc = r.fmt ? read_row(&r, l, line, err, errlen)
		           : read_header(&r, line, prelude, err, errlen);
	}
	if (rc == 0 && !r.fmt) {
		snprintf(err, errlen, "%s:%ld: empty label file (no header)", path, r.lineno);
		rc = -1;
	} else if (rc == 0 && ssmf_labels_nentries(l) == before) {
		snprintf(err, errlen, "%s: no labelled rows", path);
		rc = -1;
	}
	free(line);
	free(r.header);
	fclose(f);
	return rc;
}
