/* ssmflow - network flows to per-packet records, and a state-space model over them.
 * One entry point per command, as git's builtin/ does. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "features/ssmf_record.h"
#include "ssm/ssm.h"
#include "ssmf_version.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"export", cmd_export, "a model checkpoint to a safetensors bundle for the live pipeline"},
    {"extract", cmd_extract, "captures (pcap, pcapng, .gz, .zst) to a flow dataset (HDF5)"},
    {"info", cmd_info, "describe a dataset or a model bundle; check a bundle"},
    {"selftest", cmd_selftest, "check the GPU kernels against the CPU reference (cpu|cuda)"},
    {"score", cmd_score, "anomaly scores for captures or datasets; labels and evaluation"},
    {"train", cmd_train, "train the flow model on datasets (resumable, deterministic)"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: ssmflow <command> [options] [inputs...]\n"
	             "       ssmflow --version | --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'ssmflow <command> --help' for a command's options; see ssmflow(1).\n");
}

int main(int argc, char **argv)
{
	/* No HDF5 clean-up at exit: every file is closed explicitly, and after a failed
	 * close (disk full) HDF5 1.10's exit handler closes it again and crashes. */
	H5dont_atexit();
	/* HDF5 prints an error stack for every failed call; ours say what failed. */
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	/* a test hook: the hand-written kernels at a lower width (ssmf_cap_kernels) */
	const char *cap = getenv("SSMF_CAP_KERNELS");
	if (cap && *cap && ssmf_cap_kernels(cap) != 0) {
		fprintf(stderr,
		        "ssmflow: error: SSMF_CAP_KERNELS: '%s' is not x86-64, x86-64-v3 or "
		        "x86-64-v4\n",
		        cap);
		return SSMF_EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr);
		return SSMF_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("ssmflow %s (record version %u)\nbuild: %s\ncpu kernels: %s\n",
		       SSMF_VERSION_STRING, SSMF_RECORD_VERSION, SSMF_BUILD_FEATURES,
		       ssmf_cpu_kernels());
		return SSMF_EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			char help[] = "--help";
			char *sub[] = {argv[2], help, NULL};
			for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
				if (strcmp(argv[2], commands[i].name) == 0)
					return commands[i].run(2, sub);
		}
		usage(stdout);
		return SSMF_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "ssmflow: error: '%s' is not a command\n", argv[1]);
	usage(stderr);
	return SSMF_EXIT_USAGE;
}
