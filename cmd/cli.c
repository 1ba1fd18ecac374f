#include "cmd/cli.h"

#include <pcap/pcap.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "features/ingest.h"

const char *ssmf_progname = "ssmflow";

static volatile sig_atomic_t stop_signal;

static void vmessage(const char *kind, const char *fmt, va_list ap)
{
	char line[2048];
	vsnprintf(line, sizeof line, fmt, ap);
	/* One line per message: a newline in a file name must not split it. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s: %s: %s\n", ssmf_progname, kind, line);
}

void ssmf_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage("error", fmt, ap);
	va_end(ap);
}

void ssmf_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage("warning", fmt, ap);
	va_end(ap);
}

int ssmf_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage("error", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s %s --help'.\n", ssmf_progname, cmd);
	return SSMF_EXIT_USAGE;
}

int ssmf_parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

int ssmf_parse_seconds_ns(const char *s, uint64_t *ns)
{
	char *end;
	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || *end || x < 0 || x > 1e9)
		return -1;
	*ns = (uint64_t)(x * 1e9 + 0.5);
	return 0;
}

int ssmf_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || x < 0)
		return -1;
	double mult = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		mult = 1024.0;
		end++;
		break;
	case 'M':
		mult = 1024.0 * 1024;
		end++;
		break;
	case 'G':
		mult = 1024.0 * 1024 * 1024;
		end++;
		break;
	case 'T':
		mult = 1024.0 * 1024 * 1024 * 1024;
		end++;
		break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || x * mult > 1.8e19)
		return -1;
	*bytes = (uint64_t)(x * mult);
	return 0;
}

int ssmf_parse_bool(const char *s, int *v)
{
	static const char *const yes[] = {"yes", "on", "1", "true"};
	static const char *const no[] = {"no", "off", "0", "false", "never"};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		if (strcasecmp(s, yes[i]) == 0)
			return *v = 1, 0;
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		if (strcasecmp(s, no[i]) == 0)
			return *v = 0, 0;
	return -1;
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

void ssmf_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked read returns and we stop */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int ssmf_stop_signal(void)
{
	return stop_signal;
}

double ssmf_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int ssmf_report_inputs(const struct ssmf_ingest_result *res)
{
	for (size_t i = 0; i < res->ninputs; i++)
		if (strcmp(res->inputs[i].status, "refused") == 0)
			ssmf_error("%s", res->inputs[i].message);
	if (res->refused)
		return SSMF_EXIT_INPUT;
	return res->partial ? SSMF_EXIT_PARTIAL : SSMF_EXIT_OK;
}

void ssmf_print_skipped(const struct ssmf_ingest_result *res)
{
	int any = 0;
	for (int i = 1; i < SSMF_SKIP_COUNT; i++)
		if (res->skipped[i]) {
			fprintf(stderr, "%s %s %llu",
			        any ? "," : "  packets skipped:", ssmf_skip_reason_names[i],
			        (unsigned long long)res->skipped[i]);
			any = 1;
		}
	if (any)
		fprintf(stderr, "\n");
}

int ssmf_check_filter(const char *cmd, const char *filter)
{
	if (!filter)
		return 0;
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
	struct bpf_program prog;
	int rc = 0;
	if (!dead || pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
		rc = ssmf_usage_error(cmd, "bad --filter '%s': %s", filter,
		                      dead ? pcap_geterr(dead) : "out of memory");
	else
		pcap_freecode(&prog);
	if (dead)
		pcap_close(dead);
	return rc;
}
