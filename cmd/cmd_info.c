/* ssmflow info: describe a dataset or a model bundle (chosen by the file's content). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/options.h"
#include "datasets/reader.h"
#include "export/bundle.h"

static const char usage[] =
    "usage: ssmflow info FILE.h5|MODEL.safetensors...\n"
    "\n"
    "Prints a dataset's schema version, extraction parameters, per-input\n"
    "provenance (path, size, SHA-256, link type, packets, status), flow and\n"
    "record counts, and the counts of skipped (malformed or non-IP) packets.\n"
    "For a model bundle from 'ssmflow export': its config, dtype, tensors\n"
    "and provenance, after checking its structure, alignment (every tensor\n"
    "at a multiple of 64 bytes) and coverage (the tensors tile the data\n"
    "exactly and include every tensor the config needs).\n"
    "\n";
static const char epilogue[] =
    "\n"
    "Exit codes: 0 ok, 1 usage, 2 a file is not a readable ssmflow dataset\n"
    "or a valid model bundle.\n";

static const struct ssmf_opt info_opts[] = {
    {.name = "help", .short_name = 'h', .type = SSMF_OPT_FLAG, .help = "this help"},
    SSMF_OPT_END,
};

static const struct ssmf_command_opts info_cmd = {"info", usage, epilogue, info_opts};

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

/* By content: HDF5 has its signature; a safetensors file starts with its header length
 * (little-endian u64, small) and '{'. A damaged file named .safetensors goes to the
 * bundle checks, which say what is wrong with it. */
static int looks_like_bundle(const char *path)
{
	static const unsigned char hdf5[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
	unsigned char b[9] = {0};
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(b, 1, sizeof b, f) : 0;
	if (f)
		fclose(f);
	if (n >= 8 && memcmp(b, hdf5, 8) == 0)
		return 0;
	if (n == sizeof b && b[8] == '{' && b[7] == 0 && b[6] == 0 && b[5] == 0)
		return 1;
	size_t len = strlen(path);
	return len >= 12 && strcmp(path + len - 12, ".safetensors") == 0;
}

static int info_bundle(const char *path)
{
	char err[1024];
	struct ssmf_st_file f;
	struct ssmf_config cfg;
	if (ssmf_bundle_open(path, &f, &cfg, err, sizeof err) != 0) {
		ssmf_error("%s", err);
		return SSMF_EXIT_INPUT;
	}
	uint64_t params = 0, pad = 0;
	int npad = 0;
	for (int i = 0; i < f.n; i++) {
		uint64_t bytes = f.t[i].end - f.t[i].begin;
		if (ssmf_st_is_padding(f.t[i].name)) {
			npad++;
			pad += bytes;
		} else {
			params += bytes / (uint64_t)ssmf_st_dtype_size(f.t[i].dtype);
		}
	}
	printf("%s\n", path);
	printf("  %-30s %s %s\n", "format", ssmf_st_meta(&f, "format"),
	       ssmf_st_meta(&f, "format_version"));
	printf("  %-30s %s\n", "dtype", ssmf_st_meta(&f, "dtype"));
	printf("  %-30s %d %d %d %d %d\n", "config (D L N expand P)", cfg.d_model, cfg.n_layer,
	       cfg.d_state, cfg.expand, cfg.headdim);
	printf("  %-30s %s\n", "config", ssmf_st_meta(&f, "config"));
	printf("  %-30s %s\n", "record_version", ssmf_st_meta(&f, "record_version"));
	printf("  %-30s %d model + %d padding (%llu bytes)\n", "tensors", f.n - npad, npad,
	       (unsigned long long)pad);
	printf("  %-30s %llu\n", "parameters", (unsigned long long)params);
	printf("  %-30s %llu bytes of JSON, data at byte %llu\n", "header",
	       (unsigned long long)f.header_len, (unsigned long long)f.data_start);
	printf("  %-30s ok: every tensor at a multiple of %u bytes in the file\n", "alignment",
	       SSMF_ST_ALIGN);
	printf("  %-30s ok: tensors tile the %llu-byte data buffer; all the config needs\n",
	       "coverage", (unsigned long long)(f.size - f.data_start));
	const char *sw = ssmf_st_meta(&f, "software"), *prov = ssmf_st_meta(&f, "provenance");
	printf("  %-30s %s\n", "software", sw ? sw : "(not recorded)");
	printf("  %-30s %s\n", "provenance",
	       prov ? "recorded (metadata 'provenance', JSON)" : "(none in the checkpoint)");
	ssmf_st_free(&f);
	return SSMF_EXIT_OK;
}

static int info_one(const char *path)
{
	if (looks_like_bundle(path))
		return info_bundle(path);

	char err[1024];
	struct ssmf_dataset *ds = ssmf_dataset_open(path, err, sizeof err);
	if (!ds) {
		ssmf_error("%s", err);
		return SSMF_EXIT_INPUT;
	}
	printf("%s\n", path);
	printf("  %-30s %" PRIu64 "\n", "flows (rows of /flows)", ssmf_dataset_nflows(ds));
	printf("  %-30s %" PRIu64 "\n", "records (rows of /packets)", ssmf_dataset_npackets(ds));
	printf("  %-30s %" PRIu64 "\n", "flows cut at --max-packets", ssmf_dataset_flows_cut(ds));
	ssmf_dataset_each_attr(ds, print_attr, ds);
	for (size_t i = 0; i < ssmf_dataset_ninputs(ds); i++) {
		const struct ssmf_input_info *in = ssmf_dataset_input(ds, i);
		printf("  input %zu: %s\n", i, in->path);
		printf("    format %s, link type %d (%s), %llu bytes, %llu packets, %s%s%s\n",
		       in->format, in->linktype, in->linktype_name, in->size_bytes, in->packets,
		       in->status, in->message[0] ? ": " : "", in->message);
		printf("    sha256 %s\n", in->sha256);
		if (in->isb_count)
			printf("    interface statistics: %llu blocks, %llu dropped by the "
			       "interface, %llu by the OS\n",
			       in->isb_count, in->isb_ifdrop, in->isb_osdrop);
	}
	ssmf_dataset_close(ds);
	return SSMF_EXIT_OK;
}

int cmd_info(int argc, char **argv)
{
	int first = 0;
	int prc = ssmf_opts_parse(&info_cmd, NULL, argc, argv, &first, NULL);
	if (prc)
		return prc < 0 ? SSMF_EXIT_OK : prc;
	if (first >= argc)
		return ssmf_usage_error("info", "no file given");
	int code = SSMF_EXIT_OK;
	for (int i = first; i < argc; i++) {
		int rc = info_one(argv[i]);
		if (rc > code)
			code = rc;
	}
	return code;
}
