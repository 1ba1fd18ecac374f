/* ssmflow extract: captures to a flow dataset. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/options.h"
#include "cmd/progress.h"
#include "cmd/shared_opts.h"
#include "datasets/labels.h"
#include "datasets/writer.h"
#include "features/flowtable.h"
#include "features/capture.h"
#include "features/record_stream.h"
#include "ssmf_version.h"

static const char synopsis[] =
    "usage: ssmflow extract [options] -o OUT.h5 CAPTURE...\n"
    "       ssmflow extract [options] --records FILE|- CAPTURE...\n"
    "\n"
    "Reads pcap/pcapng captures (also .gz/.zst compressed; '-' is stdin) in the order\n"
    "given and writes every flow's summary and per-packet records to an HDF5 dataset.\n"
    "\n";
static const char epilogue[] =
    "\n"
    "Exit codes: 0 ok, 1 usage, 2 an input could not be read, 3 an input was damaged\n"
    "(packets before the damage were kept), 4 output error, 5 internal error,\n"
    "130/143 interrupted (no output file is left).\n";

struct extract_cli {
	const char *out, *records, *filter;
	struct ssmf_flow_params fp;
	struct ssmf_writer_opts wo;
	struct ssmf_label_args la;
	int quiet;
};

/* The rows with a key are the dataset's metadata, in this order. */
static const struct ssmf_opt extract_opts[] = {
    {.name = "output",
     .short_name = 'o',
     .arg = "FILE",
     .type = SSMF_OPT_STRING,
     .offset = offsetof(struct extract_cli, out),
     .help = "dataset to write (written under a temporary name, renamed when complete)"},
    {.name = "records",
     .arg = "FILE|-",
     .type = SSMF_OPT_STRING,
     .offset = offsetof(struct extract_cli, records),
     .help = "also (or only) every packet's record in capture order, as the live harvester "
             "writes them: a 4096-byte header page, then 32-byte records "
             "(ssmflow-formats(5))"},
    SSMF_FLOW_TIMEOUT_ROWS(struct extract_cli, fp),
    {.name = "tcp-grace",
     .arg = "SEC",
     .type = SSMF_OPT_SECONDS,
     .offset = offsetof(struct extract_cli, fp.tcp_close_grace_ns),
     .help = "late packets this long after a TCP close join the flow",
     .key = "tcp_close_grace_s"},
    {.name = "max-packets",
     .arg = "N",
     .type = SSMF_OPT_U32,
     .offset = offsetof(struct extract_cli, fp.max_packets),
     .lo = 1,
     .hi = UINT32_MAX,
     .help = "records kept per flow; the summary counts all",
     .key = "max_packets"},
    SSMF_FLOW_TABLE_ROWS(struct extract_cli, fp),
    {.name = "filter",
     .short_name = 'f',
     .arg = "EXPR",
     .type = SSMF_OPT_STRING,
     .offset = offsetof(struct extract_cli, filter),
     .help = "BPF filter applied to every input (pcap-filter(7))",
     .key = "filter"},
    {.name = "zstd-level",
     .arg = "N",
     .type = SSMF_OPT_I32,
     .offset = offsetof(struct extract_cli, wo.zstd_level),
     .lo = 1,
     .hi = 19,
     .help = "zstd compression level",
     .key = "zstd_level"},
    SSMF_LABEL_ROWS(struct extract_cli, la),
    {.name = "quiet",
     .short_name = 'q',
     .type = SSMF_OPT_FLAG,
     .offset = offsetof(struct extract_cli, quiet),
     .help = "no progress and no summary"},
    {.name = "help", .short_name = 'h', .type = SSMF_OPT_FLAG, .help = "this help"},
    SSMF_OPT_END,
};

static const struct ssmf_command_opts extract_cmd = {"extract", synopsis, epilogue, extract_opts};

struct extract_ctx {
	struct ssmf_writer *writer; /* NULL: no -o, records only */
	struct ssmf_record_stream *records;
	int records_errno;
	struct ssmf_labels *labels; /* NULL: no labels */
	const char *const *inputs;
	uint32_t *input_first_flow; /* flow id of the first flow started in each input */
	size_t ninputs_started;
	int quiet;
	double t0;
	struct ssmf_progress progress;
};

static int sink_to_writer(void *user, const struct ssmf_flow_summary *s,
                          const struct ssmf_record *records)
{
	struct extract_ctx *x = user;
	if (!x->writer)
		return 0;
	if (!x->labels)
		return ssmf_writer_add_flow(x->writer, s, records);
	/* the input the flow started in: flow ids are handed out in order */
	size_t k = x->ninputs_started;
	while (k > 1 && s->flow_id < x->input_first_flow[k - 1])
		k--;
	struct ssmf_flow_summary row = *s;
	row.label = ssmf_labels_lookup(x->labels, s, k ? x->inputs[k - 1] : NULL);
	return ssmf_writer_add_flow(x->writer, &row, records);
}

static void on_input(void *user, size_t index, const char *path, uint32_t first_flow_id)
{
	struct extract_ctx *x = user;
	(void)path;
	x->input_first_flow[index] = first_flow_id;
	x->ninputs_started = index + 1;
}

static int on_record(void *user, const struct ssmf_record *r)
{
	struct extract_ctx *x = user;
	if (ssmf_record_stream_write(x->records, r) == 0)
		return 0;
	x->records_errno = errno ? errno : EIO;
	return -1;
}

static void abort_outputs(struct extract_ctx *x)
{
	if (x->writer)
		ssmf_writer_abort(x->writer);
	ssmf_record_stream_abort(x->records);
	x->writer = NULL;
	x->records = NULL;
}

static void on_warn(void *user, const char *msg)
{
	struct extract_ctx *x = user;
	ssmf_progress_clear(&x->progress); /* the warning gets the line */
	ssmf_warn("%s", msg);
}

static void on_progress(void *user, uint64_t packets, uint64_t bytes_read, uint64_t flows)
{
	struct extract_ctx *x = user;
	char extra[64];
	snprintf(extra, sizeof extra, "%llu packets, %llu flows", (unsigned long long)packets,
	         (unsigned long long)(x->writer ? ssmf_writer_flows(x->writer) : flows));
	ssmf_progress_update(&x->progress, bytes_read, extra);
}

static int on_should_stop(void *user)
{
	(void)user;
	return ssmf_stop_signal() != 0;
}

/* The options that shaped the dataset, as its metadata: the rows with a key. */
static int write_option_attrs(struct ssmf_writer *w, const struct extract_cli *c)
{
	int rc = 0;
	for (const struct ssmf_opt *o = extract_opts; o->name; o++) {
		const void *v = ssmf_opt_field(o, c);
		if (!o->key)
			continue;
		switch (o->type) {
		case SSMF_OPT_SECONDS:
			rc |= ssmf_writer_attr_f64(w, o->key, (double)*(const uint64_t *)v * 1e-9);
			break;
		case SSMF_OPT_BOOL:
		case SSMF_OPT_I32:
			rc |= ssmf_writer_attr_u64(w, o->key, (uint64_t) * (const int *)v);
			break;
		case SSMF_OPT_U16:
			rc |= ssmf_writer_attr_u64(w, o->key, *(const uint16_t *)v);
			break;
		case SSMF_OPT_U32:
			rc |= ssmf_writer_attr_u64(w, o->key, *(const uint32_t *)v);
			break;
		case SSMF_OPT_BYTES:
		case SSMF_OPT_U64:
			rc |= ssmf_writer_attr_u64(w, o->key, *(const uint64_t *)v);
			break;
		case SSMF_OPT_STRING: {
			const char *s = *(const char *const *)v;
			rc |= ssmf_writer_attr_str(w, o->key, s ? s : "");
			break;
		}
		default:
			rc = -1; /* a key on a row of a type the metadata has no form for */
		}
	}
	return rc;
}

static int write_attrs(struct ssmf_writer *w, const struct extract_cli *c,
                       const struct ssmf_ingest_result *res, const struct ssmf_flow_counters *fc,
                       const struct ssmf_labels *labels)
{
	int rc = write_option_attrs(w, c);
	rc |= ssmf_writer_attr_str(w, "software", "ssmflow " SSMF_VERSION_STRING);
	rc |= ssmf_writer_attr_u64(w, "packets_read", res->packets_read);
	rc |= ssmf_writer_attr_u64(w, "packets_decoded", res->packets_decoded);
	for (int i = 1; i < SSMF_SKIP_COUNT; i++) {
		char name[96];
		snprintf(name, sizeof name, "skipped_%s", ssmf_skip_reason_names[i]);
		rc |= ssmf_writer_attr_u64(w, name, res->skipped[i]);
	}
	rc |= ssmf_writer_attr_u64(w, "flows", fc->flows);
	for (int i = 0; i < SSMF_END_COUNT; i++) {
		char name[64];
		snprintf(name, sizeof name, "flows_ended_%s", ssmf_end_reason_names[i]);
		rc |= ssmf_writer_attr_u64(w, name, fc->ended[i]);
	}
	rc |= ssmf_writer_attr_u64(w, "packets_out_of_order", fc->out_of_order);
	rc |= ssmf_writer_attr_u64(w, "records_dropped_max_packets", fc->records_dropped);
	rc |= ssmf_writer_attr_u64(w, "fragments_attributed", fc->fragments_attributed);
	rc |= ssmf_writer_attr_u64(w, "fragments_unattributed", fc->fragments_unattributed);
	rc |= ssmf_writer_attr_u64(w, "fragment_cache_evictions", fc->fragment_cache_evictions);
	for (size_t i = 0; i < res->ninputs; i++)
		rc |= ssmf_writer_add_input(w, &res->inputs[i]);
	if (labels && ssmf_labels_count(labels))
		rc |= ssmf_writer_label_names(w, ssmf_labels_names(labels),
		                              ssmf_labels_count(labels));
	return rc ? -1 : 0;
}

static void print_summary(const char *out, const struct ssmf_ingest_result *res,
                          const struct ssmf_flow_counters *fc, uint64_t records, double secs)
{
	struct stat st;
	double mib = stat(out, &st) == 0 ? (double)st.st_size / (1024.0 * 1024.0) : 0;
	fprintf(stderr, "%s: %zu input(s), %llu packets read, %llu records, %llu flows, %.2f MiB",
	        out, res->ninputs, (unsigned long long)res->packets_read,
	        (unsigned long long)records, (unsigned long long)fc->flows, mib);
	fprintf(stderr, " in %.2f s (%.2f Mpkt/s)\n", secs,
	        secs > 0 ? (double)res->packets_read / secs / 1e6 : 0.0);
	fprintf(stderr, "  flows ended:");
	for (int i = 0; i < SSMF_END_COUNT; i++)
		if (fc->ended[i])
			fprintf(stderr, " %s %llu", ssmf_end_reason_names[i],
			        (unsigned long long)fc->ended[i]);
	fprintf(stderr, "\n");
	ssmf_print_skipped(res);
	if (fc->out_of_order)
		fprintf(stderr, "  out-of-order timestamps: %llu packets\n",
		        (unsigned long long)fc->out_of_order);
	if (fc->records_dropped)
		fprintf(stderr, "  records beyond --max-packets (counted, not stored): %llu\n",
		        (unsigned long long)fc->records_dropped);
}

static int usage_error(struct extract_cli *c, const char *msg)
{
	ssmf_opts_free(extract_opts, c);
	return ssmf_usage_error("extract", "%s", msg);
}

int cmd_extract(int argc, char **argv)
{
#define RC(v)                                                                                      \
	do {                                                                                       \
		code = (v);                                                                        \
		goto out;                                                                          \
	} while (0)
	struct extract_cli cli = {0};
	ssmf_flow_params_default(&cli.fp);
	ssmf_writer_opts_default(&cli.wo);
	ssmf_label_args_init(&cli.la);
	int code = SSMF_EXIT_OK, first = 0;
	int prc = ssmf_opts_parse(&extract_cmd, &cli, argc, argv, &first, NULL);
	if (prc) {
		ssmf_opts_free(extract_opts, &cli);
		return prc < 0 ? SSMF_EXIT_OK : prc;
	}
	const char *out = cli.out, *filter = cli.filter, *records = cli.records;
	int quiet = cli.quiet;
	struct ssmf_flow_params fp = cli.fp;
	struct ssmf_writer_opts wo = cli.wo;
	if (!out && !records)
		return usage_error(&cli, "no output: give -o OUT.h5 or --records FILE");
	if (out && strcmp(out, "-") == 0)
		return usage_error(&cli, "an HDF5 dataset cannot go to stdout");
	if (first >= argc)
		return usage_error(&cli, "no input capture given");
	if (ssmf_check_filter("extract", filter)) {
		ssmf_opts_free(extract_opts, &cli);
		return SSMF_EXIT_USAGE;
	}
	int nstdin = 0;
	for (int i = first; i < argc; i++)
		nstdin += strcmp(argv[i], "-") == 0;
	if (nstdin > 1)
		return usage_error(&cli, "'-' (stdin) given more than once");

	ssmf_signals_install();
	char err[1024];
	struct extract_ctx x = {.quiet = quiet};
	x.inputs = (const char *const *)argv + first;
	x.input_first_flow = calloc((size_t)(argc - first), sizeof *x.input_first_flow);
	if (!x.input_first_flow) {
		ssmf_error("out of memory");
		ssmf_opts_free(extract_opts, &cli);
		return SSMF_EXIT_INTERNAL;
	}
	if (ssmf_label_args_given(&cli.la) &&
	    !(x.labels = ssmf_labels_from_args("extract", &cli.la, &code)))
		RC(code);
	x.t0 = ssmf_now();
	ssmf_progress_start(&x.progress, quiet, SSMF_PROGRESS_BYTES,
	                    ssmf_progress_input_bytes(x.inputs, (size_t)(argc - first)), 0);
	if (out && !(x.writer = ssmf_writer_create(out, &wo, err, sizeof err))) {
		ssmf_error("%s", err);
		RC(SSMF_EXIT_OUTPUT);
	}
	if (records && !(x.records = ssmf_record_stream_open(records, err, sizeof err))) {
		abort_outputs(&x);
		ssmf_error("%s", err);
		RC(SSMF_EXIT_OUTPUT);
	}
	if (!out)
		fp.max_packets = 1; /* no dataset: records go to the stream, none are kept */
	struct ssmf_capture_sinks sinks = {
	    .user = &x,
	    .flow_end = sink_to_writer,
	    .record = records ? on_record : NULL,
	    .input_started = on_input,
	    .warn = on_warn,
	    .should_stop = on_should_stop,
	    .progress = on_progress,
	};
	struct ssmf_capture_result cres;
	int rc = ssmf_capture_run(x.inputs, (size_t)(argc - first), filter, &fp, &sinks, &cres);
	struct ssmf_ingest_result *res = &cres.in;
	ssmf_progress_clear(&x.progress);
	if (rc == SSMF_CAPTURE_NO_TABLE) {
		abort_outputs(&x);
		ssmf_error("out of memory");
		RC(SSMF_EXIT_INTERNAL);
	}
	code = ssmf_report_inputs(res);
	int sig = ssmf_stop_signal();
	if (rc != 0 || sig) {
		int out_err = rc != 0 && x.writer && ssmf_writer_error(x.writer)[0];
		if (rc != 0 && x.records_errno) {
			out_err = 1;
			ssmf_error("%s: cannot write the record stream: %s", records,
			           strerror(x.records_errno));
		} else if (rc != 0) {
			ssmf_error("%s", out_err ? ssmf_writer_error(x.writer) : "out of memory");
		}
		abort_outputs(&x);
		ssmf_capture_result_free(&cres);
		if (sig) {
			ssmf_error("interrupted by signal %d; no output written", sig);
			RC(128 + sig);
		}
		RC(out_err ? SSMF_EXIT_OUTPUT : SSMF_EXIT_INTERNAL);
	}
	if (res->refused == (int)res->ninputs) {
		ssmf_error("no input could be read; no output written");
		abort_outputs(&x);
		ssmf_capture_result_free(&cres);
		RC(SSMF_EXIT_INPUT);
	}
	const struct ssmf_flow_counters *fc = &cres.flows;
	uint64_t nrec =
	    x.writer ? ssmf_writer_packets(x.writer) : ssmf_record_stream_count(x.records);
	err[0] = 0;
	if (x.records) { /* first: a failed stream must not leave a committed dataset */
		struct ssmf_record_stream *rs = x.records;
		x.records = NULL;
		if (ssmf_record_stream_commit(rs, err, sizeof err) != 0) {
			ssmf_error("%s", err);
			abort_outputs(&x);
			code = SSMF_EXIT_OUTPUT;
		}
	}
	if (!x.writer) {
		/* records only: nothing more to write */
	} else if (write_attrs(x.writer, &cli, res, fc, x.labels) != 0) {
		ssmf_error("%s", ssmf_writer_error(x.writer));
		abort_outputs(&x);
		code = SSMF_EXIT_OUTPUT;
	} else if (ssmf_writer_commit(x.writer, err, sizeof err) != 0) {
		ssmf_error("%s", err);
		code = SSMF_EXIT_OUTPUT;
	}
	if (code == SSMF_EXIT_OUTPUT) {
		ssmf_capture_result_free(&cres);
		RC(code);
	}
	if (!quiet) {
		struct ssmf_flow_counters shown = *fc;
		if (!out)
			shown.records_dropped = 0; /* no dataset, so nothing was meant to be kept */
		print_summary(out ? out : records, res, &shown, nrec, ssmf_now() - x.t0);
	}
	ssmf_capture_result_free(&cres);
out:
	ssmf_labels_free(x.labels);
	free(x.input_first_flow);
	ssmf_opts_free(extract_opts, &cli);
	return code;
}
