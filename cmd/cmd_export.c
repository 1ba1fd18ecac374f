/* ssmflow export: a model checkpoint to the live pipeline's safetensors bundle. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "export/bundle.h"
#include "ssmf_version.h"

static const char usage[] =
    "usage: ssmflow export [options] -o OUT.safetensors MODEL.ssmf\n"
    "\n"
    "Writes a model checkpoint (from 'ssmflow train') as a safetensors file for the live\n"
    "pipeline: tensors named like layers.0.mixer.in_proj.weight, each 64-byte aligned in\n"
    "the file, and metadata with the config, record version, input normalisation and\n"
    "the model's provenance (see ssmflow-formats(5)). Refuses a checkpoint it cannot\n"
    "fully describe.\n"
    "\n"
    "  -o, --output FILE        bundle to write (temporary name, renamed when complete)\n"
    "      --host-output FILE   the host level's bundle, for a model that has one (same\n"
    "                           format, \"level\": \"host\" in its metadata; default:\n"
    "                           OUT.host.safetensors beside OUT.safetensors)\n"
    "      --dtype f32|bf16|f16 tensor type (f32); bf16 and f16 round to nearest even\n"
    "  -q, --quiet              no summary\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit codes: 0 ok, 1 usage, 2 the checkpoint could not be read or described,\n"
    "4 output error, 5 internal error.\n";

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"dtype", required_argument, NULL, 'T'},
	    {"host-output", required_argument, NULL, 'H'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ssmf_export_opts o = {.dtype = SSMF_ST_F32,
	                             .software = "ssmflow " SSMF_VERSION_STRING};
	const char *out = NULL;
	int quiet = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'T':
			if (strcmp(optarg, "f32") == 0)
				o.dtype = SSMF_ST_F32;
			else if (strcmp(optarg, "bf16") == 0)
				o.dtype = SSMF_ST_BF16;
			else if (strcmp(optarg, "f16") == 0)
				o.dtype = SSMF_ST_F16;
			else
				return ssmf_usage_error("export", "bad --dtype '%s' (f32|bf16|f16)",
				                        optarg);
			break;
		case 'H':
			o.host_path = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return SSMF_EXIT_OK;
		default:
			return ssmf_usage_error("export", "unknown option");
		}
	}
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
