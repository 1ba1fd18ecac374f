/* cli.h - what every command shares: exit codes, messages, option values,
 * signals. The commands are thin: they parse options and wire the modules. */
#ifndef SSMF_CLI_H
#define SSMF_CLI_H

#include <signal.h>
#include <stdint.h>

/* Exit codes, documented in ssmflow(1). When several apply, the most severe
 * (the largest below 128) is returned. */
enum ssmf_exit {
	SSMF_EXIT_OK = 0,
	SSMF_EXIT_USAGE = 1,    /* bad command line */
	SSMF_EXIT_INPUT = 2,    /* an input could not be read at all */
	SSMF_EXIT_PARTIAL = 3,  /* an input was damaged: what came before was used */
	SSMF_EXIT_OUTPUT = 4,   /* an output could not be written */
	SSMF_EXIT_INTERNAL = 5, /* out of memory or another internal failure */
	SSMF_EXIT_NO_CUDA = 6,  /* --device cuda: built without CUDA, or no usable device */
	                        /* 128 + signal number: stopped by SIGINT (130) or SIGTERM (143) */
};

extern const char *ssmf_progname;

int cmd_export(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);

/* "ssmflow: error: ..." / "ssmflow: warning: ..." on stderr, one line. */
void ssmf_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ssmf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error: message plus a pointer to --help; returns SSMF_EXIT_USAGE. */
int ssmf_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Option values. Each returns 0, or -1 for a value that does not parse. */
int ssmf_parse_u64(const char *s, uint64_t *v);
int ssmf_parse_seconds_ns(const char *s, uint64_t *ns); /* "120", "1.5", "0" */
int ssmf_parse_size(const char *s, uint64_t *bytes);    /* "512M", "2G", "65536" */
int ssmf_parse_bool(const char *s, int *v);             /* yes/no, on/off, 1/0, true/false */

struct ssmf_ingest_result;
/* Reports the inputs that could not be read (one error line each) and returns the exit
 * code reading them earned: OK, PARTIAL (an input was damaged) or INPUT (one refused). */
int ssmf_report_inputs(const struct ssmf_ingest_result *res);
/* "  packets skipped: REASON N, ..." on stderr, one line, for the reasons that occurred
 * (nothing when none did): extract's and score's summaries. */
void ssmf_print_skipped(const struct ssmf_ingest_result *res);
/* A --filter that does not compile is a usage error: 0, or SSMF_EXIT_USAGE (reported). */
int ssmf_check_filter(const char *cmd, const char *filter);

/* SIGINT/SIGTERM set a flag that long loops poll; they do not restart reads. */
void ssmf_signals_install(void);
int ssmf_stop_signal(void); /* 0, or the signal that asked us to stop */

/* Seconds on a monotonic clock. */
double ssmf_now(void);

#endif
