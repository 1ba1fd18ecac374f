#include "cmd/options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"

#define FIELD(base, o, type)  ((type *)((char *)(base) + (o)->offset))
#define CFIELD(base, o, type) ((const type *)((const char *)(base) + (o)->offset))

/* Option codes: a short name is its own code; long-only options count from here. */
enum { LONG_ONLY_CODE = 256 };

enum { USAGE_HELP_COLUMN = 27, USAGE_WIDTH = 92 };

size_t ssmf_opts_count(const struct ssmf_opt *opts)
{
	size_t n = 0;
	while (opts[n].name)
		n++;
	return n;
}

static int code_of(const struct ssmf_opt *opts, size_t i)
{
	return opts[i].short_name ? (unsigned char)opts[i].short_name : LONG_ONLY_CODE + (int)i;
}

/* A number in the fewest characters that read back the same: 1800, 0.001, 1e-08 as 1e-8. */
static void format_number(double v, char *buf, size_t len)
{
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	char *e = strchr(buf, 'e');
	if (!e)
		return;
	char *digits = e + 1 + (e[1] == '-' || e[1] == '+');
	char *p = digits;
	while (*p == '0' && p[1])
		p++;
	if (e[1] == '+')
		memmove(e + 1, p, strlen(p) + 1);
	else
		memmove(digits, p, strlen(p) + 1);
}

static void format_bytes(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && v && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)v, units[u]);
}

const char *ssmf_opt_default_text(const struct ssmf_opt *o, const void *base, char *buf, size_t len)
{
	if (o->def)
		return o->def;
	buf[0] = 0;
	switch (o->type) {
	case SSMF_OPT_FLAG:
	case SSMF_OPT_LIST:
		break;
	case SSMF_OPT_STRING: {
		const char *s = *CFIELD(base, o, const char *);
		if (s)
			snprintf(buf, len, "%s", s);
		break;
	}
	case SSMF_OPT_I32:
		snprintf(buf, len, "%d", (int)*CFIELD(base, o, int32_t));
		break;
	case SSMF_OPT_I64:
		snprintf(buf, len, "%lld", (long long)*CFIELD(base, o, int64_t));
		break;
	case SSMF_OPT_U16:
		snprintf(buf, len, "%u", (unsigned)*CFIELD(base, o, uint16_t));
		break;
	case SSMF_OPT_U32:
		snprintf(buf, len, "%lu", (unsigned long)*CFIELD(base, o, uint32_t));
		break;
	case SSMF_OPT_U64:
		snprintf(buf, len, "%llu", (unsigned long long)*CFIELD(base, o, uint64_t));
		break;
	case SSMF_OPT_SIZE:
		snprintf(buf, len, "%zu", *CFIELD(base, o, size_t));
		break;
	case SSMF_OPT_F64: {
		double v = *CFIELD(base, o, double);
		if (isfinite(v))
			format_number(v, buf, len);
		break;
	}
	case SSMF_OPT_SECONDS:
		format_number((double)*CFIELD(base, o, uint64_t) / 1e9, buf, len);
		break;
	case SSMF_OPT_BYTES:
		format_bytes(*CFIELD(base, o, uint64_t), buf, len);
		break;
	case SSMF_OPT_BOOL:
		snprintf(buf, len, "%s", *CFIELD(base, o, int) ? "yes" : "no");
		break;
	case SSMF_OPT_CHOICE:
		for (const struct ssmf_opt_choice *c = o->choices; c->name; c++)
			if (!c->hidden && c->value == *CFIELD(base, o, int)) {
				snprintf(buf, len, "%s", c->name);
				break;
			}
		break;
	}
	return buf;
}

/* "  -o, --output FILE" padded to the help column (or on a line of its own). */
static void print_option(FILE *out, const struct ssmf_opt *o, const void *base)
{
	char head[128], def[64], text[1024];
	int n = snprintf(head, sizeof head, "  %c%c%s--%s%s%s", o->short_name ? '-' : ' ',
	                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
	                 o->arg ? " " : "", o->arg ? o->arg : "");
	const char *d = ssmf_opt_default_text(o, base, def, sizeof def);
	if (*d)
		snprintf(text, sizeof text, "%s (default: %s%s%s)", o->help, d, o->note ? "; " : "",
		         o->note ? o->note : "");
	else
		snprintf(text, sizeof text, "%s", o->help);
	fputs(head, out);
	int col = n;
	if (col > USAGE_HELP_COLUMN - 1) {
		fputc('\n', out);
		col = 0;
	}
	/* words, wrapped at USAGE_WIDTH, each line from the help column */
	const char *p = text;
	int first = 1;
	while (*p) {
		size_t w = strcspn(p, " ");
		if (!first && col + 1 + (int)w > USAGE_WIDTH) {
			fputc('\n', out);
			col = 0;
			first = 1;
		}
		if (first) {
			fprintf(out, "%*s", USAGE_HELP_COLUMN - col, "");
			col = USAGE_HELP_COLUMN;
		} else {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, w, out);
		col += (int)w;
		first = 0;
		p += w;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

void ssmf_opts_usage(FILE *out, const struct ssmf_command_opts *c, const void *base)
{
	fputs(c->synopsis, out);
	for (size_t i = 0; c->opts[i].name; i++)
		print_option(out, &c->opts[i], base);
	fputs(c->epilogue, out);
}

static int parse_integer(const struct ssmf_opt *o, const char *arg, double type_lo, double type_hi,
                         long long *out)
{
	char *end;
	if (!*arg)
		return -1;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	double lo = o->lo, hi = o->hi;
	if (lo == 0 && hi == 0)
		lo = type_lo, hi = type_hi;
	if (lo < type_lo)
		lo = type_lo;
	if (hi > type_hi)
		hi = type_hi;
	if (errno || *end || (double)v < lo || (double)v > hi)
		return -1;
	*out = v;
	return 0;
}

/* The bounds in a usage error: " (1..4096)", " (at least 1M)". */
static void bounds_text(const struct ssmf_opt *o, char *buf, size_t len)
{
	char lo[32], hi[32];
	buf[0] = 0;
	if (o->type == SSMF_OPT_CHOICE) {
		size_t k = (size_t)snprintf(buf, len, " (");
		for (const struct ssmf_opt_choice *c = o->choices; c->name && k < len; c++)
			if (!c->hidden)
				k += (size_t)snprintf(buf + k, len - k, "%s%s",
				                      buf[k - 1] == '(' ? "" : "|", c->name);
		if (k < len)
			snprintf(buf + k, len - k, ")");
		return;
	}
	if (o->type == SSMF_OPT_BOOL) {
		snprintf(buf, len, " (yes|no)");
		return;
	}
	if (o->lo == 0 && o->hi == 0)
		return;
	if (o->type == SSMF_OPT_BYTES) {
		format_bytes((uint64_t)o->lo, lo, sizeof lo);
		snprintf(buf, len, " (at least %s)", lo);
		return;
	}
	format_number(o->lo, lo, sizeof lo);
	format_number(o->hi, hi, sizeof hi);
	if (isinf(o->hi) && o->open_lo)
		snprintf(buf, len, " (more than %s)", lo);
	else if (isinf(o->hi))
		snprintf(buf, len, " (%s or more)", lo);
	else if (o->type == SSMF_OPT_F64 && o->open_lo && o->open_hi)
		snprintf(buf, len, " (between %s and %s)", lo, hi);
	else if (o->type == SSMF_OPT_F64 && (o->open_lo || o->open_hi))
		snprintf(buf, len, " (%s %s, %s %s)", o->open_lo ? "more than" : "at least", lo,
		         o->open_hi ? "below" : "at most", hi);
	else
		snprintf(buf, len, " (%s..%s)", lo, hi);
}

/* Stores arg into the row's field: 0, or -1 for a value that does not parse or is out of
 * bounds. */
static int store(const struct ssmf_opt *o, void *base, const char *arg)
{
	long long v;
	switch (o->type) {
	case SSMF_OPT_FLAG:
		*FIELD(base, o, int) = 1;
		return 0;
	case SSMF_OPT_STRING:
		*FIELD(base, o, const char *) = arg;
		return 0;
	case SSMF_OPT_LIST: {
		struct ssmf_opt_list *l = FIELD(base, o, struct ssmf_opt_list);
		const char **v2 = realloc(l->v, (l->n + 1) * sizeof *v2);
		if (!v2)
			return -2;
		l->v = v2;
		l->v[l->n++] = arg;
		return 0;
	}
	case SSMF_OPT_I32:
		if (parse_integer(o, arg, 0, INT32_MAX, &v))
			return -1;
		*FIELD(base, o, int32_t) = (int32_t)v;
		return 0;
	case SSMF_OPT_I64:
		if (parse_integer(o, arg, 0, (double)INT64_MAX, &v))
			return -1;
		*FIELD(base, o, int64_t) = v;
		return 0;
	case SSMF_OPT_U16:
		if (parse_integer(o, arg, 0, UINT16_MAX, &v))
			return -1;
		*FIELD(base, o, uint16_t) = (uint16_t)v;
		return 0;
	case SSMF_OPT_U32:
		if (parse_integer(o, arg, 0, UINT32_MAX, &v))
			return -1;
		*FIELD(base, o, uint32_t) = (uint32_t)v;
		return 0;
	case SSMF_OPT_U64:
		return ssmf_parse_u64(arg, FIELD(base, o, uint64_t));
	case SSMF_OPT_SIZE: {
		uint64_t u;
		if (ssmf_parse_u64(arg, &u) || u > SIZE_MAX)
			return -1;
		*FIELD(base, o, size_t) = (size_t)u;
		return 0;
	}
	case SSMF_OPT_F64: {
		char *end;
		double x = strtod(arg, &end);
		if (end == arg || *end || !isfinite(x))
			return -1;
		if (!(o->lo == 0 && o->hi == 0) &&
		    (x < o->lo || x > o->hi || (o->open_lo && x == o->lo) ||
		     (o->open_hi && x == o->hi)))
			return -1;
		*FIELD(base, o, double) = x;
		return 0;
	}
	case SSMF_OPT_SECONDS:
		return ssmf_parse_seconds_ns(arg, FIELD(base, o, uint64_t));
	case SSMF_OPT_BYTES: {
		uint64_t b;
		if (ssmf_parse_size(arg, &b) || (double)b < o->lo)
			return -1;
		*FIELD(base, o, uint64_t) = b;
		return 0;
	}
	case SSMF_OPT_BOOL:
		return ssmf_parse_bool(arg, FIELD(base, o, int));
	case SSMF_OPT_CHOICE:
		for (const struct ssmf_opt_choice *c = o->choices; c->name; c++)
			if (strcmp(arg, c->name) == 0) {
				*FIELD(base, o, int) = c->value;
				return 0;
			}
		return -1;
	}
	return -1;
}

int ssmf_opts_parse(const struct ssmf_command_opts *cmd, void *base, int argc, char **argv,
                    int *first_operand, unsigned char *given)
{
	const struct ssmf_opt *opts = cmd->opts;
	size_t n = ssmf_opts_count(opts);
	struct option *lo = calloc(n + 1, sizeof *lo);
	char *shorts = malloc(2 * n + 2);
	if (!lo || !shorts) {
		free(lo);
		free(shorts);
		ssmf_error("out of memory");
		return SSMF_EXIT_INTERNAL;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		lo[i] = (struct option){opts[i].name, opts[i].arg ? required_argument : no_argument,
		                        NULL, code_of(opts, i)};
		if (opts[i].short_name) {
			shorts[k++] = opts[i].short_name;
			if (opts[i].arg)
				shorts[k++] = ':';
		}
	}
	shorts[k] = 0;
	int c, rc = 0;
	optind = 1;
	while (rc == 0 && (c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		size_t i = 0;
		while (i < n && code_of(opts, i) != c)
			i++;
		if (i == n) {
			rc = ssmf_usage_error(cmd->cmd, "unknown option");
			break;
		}
		if (strcmp(opts[i].name, "help") == 0) {
			ssmf_opts_usage(stdout, cmd, base);
			rc = -1;
			break;
		}
		if (given)
			given[i] = 1;
		int bad = store(&opts[i], base, optarg);
		if (bad == -2) {
			ssmf_error("out of memory");
			rc = SSMF_EXIT_INTERNAL;
		} else if (bad) {
			char why[256];
			bounds_text(&opts[i], why, sizeof why);
			rc = ssmf_usage_error(cmd->cmd, "bad --%s '%s'%s", opts[i].name, optarg,
			                      why);
		}
	}
	*first_operand = optind;
	free(lo);
	free(shorts);
	return rc;
}

void ssmf_opts_free(const struct ssmf_opt *opts, void *base)
{
	for (size_t i = 0; opts[i].name; i++)
		if (opts[i].type == SSMF_OPT_LIST) {
			struct ssmf_opt_list *l = FIELD(base, &opts[i], struct ssmf_opt_list);
			free(l->v);
			l->v = NULL;
			l->n = 0;
		}
}
