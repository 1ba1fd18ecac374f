/* label_text.c - see label_text.h. */
#include "datasets/label_text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

char *ssmf_lt_trim(char *s)
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

int ssmf_lt_split_csv(char *line, char **f, int max)
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
		f[i] = ssmf_lt_trim(f[i]);
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

int ssmf_lt_split_zeek(char *line, char **f, int max, int skip)
{
	for (char *p = line; *p; p++)
		if (*p == ' ')
			*p = '\t';
	char *tmp[SSMF_LT_MAX_FIELDS];
	int m = split_tabs(line, tmp, max < SSMF_LT_MAX_FIELDS ? max : SSMF_LT_MAX_FIELDS), n = 0;
	for (int i = skip; i < m; i++)
		if (*tmp[i])
			f[n++] = tmp[i];
	return n;
}

int ssmf_lt_parse_addr(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 6;
	return 0;
}

int ssmf_lt_parse_port(const char *s, uint16_t *p)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 65535)
		return -1;
	*p = (uint16_t)v;
	return 0;
}

int ssmf_lt_parse_proto(const char *s, uint8_t *p)
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

int ssmf_lt_parse_epoch(const char *s, const struct ssmf_label_opts *o, int64_t *ns)
{
	(void)o; /* the signature of every time parser */
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	/* past 9e9 s (year 2255) the nanoseconds do not fit in an int64 */
	if (!*s || *end || errno || !isfinite(v) || v < 0 || v > 9e9)
		return -1;
	*ns = (int64_t)llround(v * 1e9);
	return 0;
}

int ssmf_lt_parse_cic_time(const char *s, const struct ssmf_label_opts *o, int64_t *ns)
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
