/* ssmflow export: a model checkpoint to the live pipeline's safetensors bundle. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/options.h"
#include "export/bundle.h"
#include "ssmf_version.h"

static const char synopsis[] =
    "usage: ssmflow export [options] -o OUT.safetensors MODEL.ssmf\n"
    "\n"
    "Writes a model checkpoint (from 'ssmflow train') as a safetensors file for the live\n"
    "pipeline: tensors named like layers.0.mixer.in_proj.weight, each 64-byte aligned in\n"
    "the file, and metadata with the config, record version, input normalisation and\n"
    "the model's provenance (see ssmflow-formats(5)). Refuses a checkpoint it cannot\n"
    "fully describe.\n"
    "\n";
static const char epilogue[] =
    "\n"
    "Exit codes: 0 ok, 1 usage, 2 the checkpoint could not be read or described,\n"
    "4 output error, 5 internal error.\n";

struct export_cli {
	struct ssmf_export_opts o;
	const char *out;
	int quiet;
};

static const struct ssmf_opt_choice dtypes[] = {
    {"f32", SSMF_ST_F32, 0},
    {"bf16", SSMF_ST_BF16, 0},
    {"f16", SSMF_ST_F16, 0},
    {NULL, 0, 0},
};

static const struct ssmf_opt export_opts[] = {
    {.name = "output",
     .short_name = 'o',
     .arg = "FILE",
     .type = SSMF_OPT_STRING,
     .offset = offsetof(struct export_cli, out),
     .help = "bundle to write (temporary name, renamed when complete)"},
    {.name = "host-output",
     .arg = "FILE",
     .type = SSMF_OPT_STRING,
     .offset = offsetof(struct export_cli, o.host_path),
     .help = "the host level's bundle, for a model that has one (same format, \"level\": "
             "\"host\" in its metadata)",
     .def = "OUT.host.safetensors beside OUT.safetensors"},
    {.name = "dtype",
     .arg = "f32|bf16|f16",
     .type = SSMF_OPT_CHOICE,
     .offset = offsetof(struct export_cli, o.dtype),
     .choices = dtypes,
     .help = "tensor type; bf16 and f16 round to nearest even"},
    {.name = "quiet",
     .short_name = 'q',
     .type = SSMF_OPT_FLAG,
     .offset = offsetof(struct export_cli, quiet),
     .help = "no summary"},
    {.name = "help", .short_name = 'h', .type = SSMF_OPT_FLAG, .help = "this help"},
    SSMF_OPT_END,
};

static const struct ssmf_command_opts export_cmd = {"export", synopsis, epilogue, export_opts};

int cmd_export(int argc, char **argv)
{
	struct export_cli cli = {
	    .o = {.dtype = SSMF_ST_F32, .software = "ssmflow " SSMF_VERSION_STRING}};
	int first = 0;
	int prc = ssmf_opts_parse(&export_cmd, &cli, argc, argv, &first, NULL);
	if (prc)
		return prc < 0 ? SSMF_EXIT_OK : prc;
	struct ssmf_export_opts o = cli.o;
	const char *out = cli.out;
	int quiet = cli.quiet, optind = first;
	if (!out)
		return ssmf_usage_error("export", "no output: give -o OUT.safetensors");
	if (strcmp(out, "-") == 0)
		return ssmf_usage_error("export", "the bundle cannot go to stdout");
	if (optind >= argc)
		return ssmf_usage_error("export", "no model checkpoint given");
	if (optind + 1 < argc)
		return ssmf_usage_error("export", "one model checkpoint at a time");
	char err[1024], host[4096] = "";
	o.written_host = host;
	o.written_host_len = sizeof host;
	int rc = ssmf_export(argv[optind], out, &o, err, sizeof err);
	if (rc != 0) {
		ssmf_error("%s", err);
		return rc == -4   ? SSMF_EXIT_OUTPUT
		       : rc == -5 ? SSMF_EXIT_INTERNAL
		                  : SSMF_EXIT_INPUT;
	}
	if (!quiet)
		fprintf(stderr, "%s: %s bundle of %s written%s%s\n", out,
		        ssmf_st_dtype_name(o.dtype), argv[optind],
		        o.host_path ? "; host level: " : "", o.host_path ? o.host_path : "");
	return SSMF_EXIT_OK;
}
