#include "cmd/progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cli.h"

/* Redraws at most this often: often enough to look alive, rarely enough to cost nothing
 * and not to flood a slow terminal. */
#define REDRAW_S 0.25

void ssmf_progress_start(struct ssmf_progress *p, int quiet, enum ssmf_progress_unit unit,
                         uint64_t total, uint64_t first)
{
	memset(p, 0, sizeof *p);
	p->on = !quiet && isatty(STDERR_FILENO);
	p->unit = unit;
	p->total = total;
	p->first = first;
	p->t0 = ssmf_now();
	p->last_draw = p->t0 - REDRAW_S; /* the first update draws at once: short runs show too */
}

static void fmt_bytes(double b, char *buf, size_t n)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	int u = 0;
	while (b >= 1000 && u < 4) {
		b /= 1000;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void fmt_duration(double s, char *buf, size_t n)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, n, "?");
	else if (s >= 3600)
		snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
	else
		snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

void ssmf_progress_update(struct ssmf_progress *p, uint64_t done, const char *extra)
{
	if (!p->on)
		return;
	double now = ssmf_now();
	if (now - p->last_draw < REDRAW_S)
		return;
	p->last_draw = now;
	double el = now - p->t0;
	double moved = done > p->first ? (double)(done - p->first) : 0;
	double rate = el > 0 ? moved / el : 0;
	char pct[16] = "", left[32] = "", amount[64], speed[32];
	if (p->total) {
		double f = (double)done / (double)p->total;
		snprintf(pct, sizeof pct, "%3.0f%% ", 100 * (f > 1 ? 1 : f));
		char d[16];
		fmt_duration(rate > 0 && done < p->total ? (double)(p->total - done) / rate
		             : done >= p->total          ? 0
		                                         : NAN,
		             d, sizeof d);
		snprintf(left, sizeof left, ", %s left", d);
	}
	if (p->unit == SSMF_PROGRESS_BYTES) {
		char a[16], t[16], r[16];
		fmt_bytes((double)done, a, sizeof a);
		fmt_bytes((double)p->total, t, sizeof t);
		fmt_bytes(rate, r, sizeof r);
		snprintf(amount, sizeof amount, p->total ? "%s of %s" : "%s", a, t);
		snprintf(speed, sizeof speed, "%s/s", r);
	} else {
		snprintf(amount, sizeof amount, p->total ? "step %llu/%llu" : "step %llu",
		         (unsigned long long)done, (unsigned long long)p->total);
		snprintf(speed, sizeof speed, "%.1f steps/s", rate);
	}
	fprintf(stderr, "\r\033[K%s%s, %s%s%s%s", pct, amount, speed, left, extra ? "  " : "",
	        extra ? extra : "");
	fflush(stderr);
	p->drawn = 1;
}

void ssmf_progress_clear(struct ssmf_progress *p)
{
	if (!p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = 0;
}

uint64_t ssmf_progress_input_bytes(const char *const *paths, size_t n)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (strcmp(paths[i], "-") == 0 || stat(paths[i], &st) != 0 || !S_ISREG(st.st_mode))
			return 0;
		total += (uint64_t)st.st_size;
	}
	return total;
}
