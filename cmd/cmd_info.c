/* ssmflow info: describe a dataset. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "datasets/reader.h"

static const char usage[] = "usage: ssmflow info FILE.h5...\n"
			    "\n"
			    "Prints a dataset's schema version, extraction parameters, per-input\n"
			    "provenance (path, size, SHA-256, link type, packets, status), flow and\n"
			    "record counts, and the counts of skipped (malformed or non-IP) packets.\n"
			    "\n"
			    "  -h, --help   this help\n"
			    "\n"
			    "Exit codes: 0 ok, 1 usage, 2 a file is not a readable ssmflow dataset.\n";

static void print_attr(const char *name, void *user)
{
	const struct ssmf_dataset *ds = user;
	char s[1024];
	uint64_t u;
	double f;
	if (ssmf_dataset_attr_u64(ds, name, &u) == 0)
		printf("  %-30s %" PRIu64 "\n", name, u);
	else if (ssmf_dataset_attr_f64(ds, name, &f) == 0)
		printf("  %-30s %g\n", name, f);
	else if (ssmf_dataset_attr_str(ds, name, s, sizeof s) == 0)
		printf("  %-30s %s\n", name, s);
}

static int info_one(const char *path)
{
	char err[1024];
	struct ssmf_dataset *ds = ssmf_dataset_open(path, err, sizeof err);
	if (!ds) {
		ssmf_error("%s", err);
		return SSMF_EXIT_INPUT;
	}
	printf("%s\n", path);
	printf("  %-30s %" PRIu64 "\n", "flows (rows of /flows)", ssmf_dataset_nflows(ds));
	printf("  %-30s %" PRIu64 "\n", "records (rows of /packets)", ssmf_dataset_npackets(ds));
	ssmf_dataset_each_attr(ds, print_attr, ds);
	for (size_t i = 0; i < ssmf_dataset_ninputs(ds); i++) {
		const struct ssmf_input_info *in = ssmf_dataset_input(ds, i);
		printf("  input %zu: %s\n", i, in->path);
		printf("    format %s, link type %d (%s), %llu bytes, %llu packets, %s%s%s\n",
		       in->format, in->linktype, in->linktype_name, in->size_bytes, in->packets,
		       in->status, in->message[0] ? ": " : "", in->message);
		printf("    sha256 %s\n", in->sha256);
	}
	ssmf_dataset_close(ds);
	return SSMF_EXIT_OK;
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return SSMF_EXIT_OK;
		}
		return ssmf_usage_error("info", "unknown option");
	}
	if (optind >= argc)
		return ssmf_usage_error("info", "no file given");
	int code = SSMF_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		int rc = info_one(argv[i]);
		if (rc > code)
			code = rc;
	}
	return code;
}
