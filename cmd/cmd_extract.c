/* ssmflow extract: captures to a flow dataset. */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/progress.h"
#include "cmd/shared_opts.h"
#include "datasets/labels.h"
#include "datasets/writer.h"
#include "features/flowtable.h"
#include "features/ingest.h"
#include "features/record_stream.h"
#include "ssmf_version.h"

static const char usage[] =
    "usage: ssmflow extract [options] -o OUT.h5 CAPTURE...\n"
    "       ssmflow extract [options] --records FILE|- CAPTURE...\n"
    "\n"
    "Reads pcap/pcapng captures (also .gz/.zst compressed; '-' is stdin) in the order\n"
    "given and writes every flow's summary and per-packet records to an HDF5 dataset.\n"
    "\n"
    "  -o, --output FILE        dataset to write (written under a temporary name,\n"
    "                           renamed when complete)\n"
    "      --records FILE|-     also (or only) every packet's record in capture order,\n"
    "                           as the live harvester writes them: a 4096-byte header\n"
    "                           page, then 32-byte records (ssmflow-formats(5))\n"
    "  -f, --filter EXPR        BPF filter applied to every input (pcap-filter(7))\n"
    "      --idle-timeout SEC   end a flow after SEC seconds without packets (120; 0 never)\n"
    "      --active-timeout SEC end a flow SEC seconds after its first packet (1800; 0 never)\n"
    "      --tcp-close yes|no   end TCP flows on RST or FIN in both directions (yes)\n"
    "      --tcp-grace SEC      late packets this long after a TCP close join the flow (1)\n"
    "      --max-packets N      records kept per flow; the summary counts all (1024)\n"
    "      --memory-cap SIZE    flow table memory cap, e.g. 512M, 2G; least recently\n"
    "                           active flows are evicted above it (1G)\n"
    "      --zstd-level N       zstd compression level 1..19 (1)\n"
    "      --community-id-seed N  seed of each flow's Community ID, 0..65535 (0)\n"
    "      --labels FILE        join ground truth into /flows: native CSV, CICFlowMeter\n"
    "                           CSV or Zeek conn.log (see ssmflow-score(1))\n"
    "      --label-rule N=EXPR  label flows matching a BPF expression N (repeatable)\n"
    "      --label-input N=GLOB label flows starting in inputs matching GLOB (repeatable)\n"
    "      --label-slack SEC, --label-utc-offset H, --label-mdy   as for score\n"
    "  -q, --quiet              no progress and no summary\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit codes: 0 ok, 1 usage, 2 an input could not be read, 3 an input was damaged\n"
    "(packets before the damage were kept), 4 output error, 5 internal error,\n"
    "130/143 interrupted (no output file is left).\n";

struct extract_ctx {
	struct ssmf_writer *writer; /* NULL: no -o, records only */
	struct ssmf_record_stream *records;
	int records_errno;
	struct ssmf_labels *labels; /* NULL: no labels */
	const char *const *inputs;
	uint32_t *input_first_flow; /* flow id of the first flow started in each input */
	size_t ninputs_started;
	struct ssmf_flowtable *table;
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

static void on_input(void *user, size_t index, const char *path)
{
	struct extract_ctx *x = user;
	(void)path;
	x->input_first_flow[index] = (uint32_t)ssmf_flowtable_counters(x->table)->flows;
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

static int on_progress(void *user, uint64_t packets, uint64_t bytes_read)
{
	struct extract_ctx *x = user;
	char extra[64];
	snprintf(extra, sizeof extra, "%llu packets, %llu flows", (unsigned long long)packets,
	         (unsigned long long)(x->writer ? ssmf_writer_flows(x->writer)
	                                        : ssmf_flowtable_counters(x->table)->flows));
	ssmf_progress_update(&x->progress, bytes_read, extra);
	return 0;
}

static int on_should_stop(void *user)
{
	(void)user;
	return ssmf_stop_signal() != 0;
}

static int write_attrs(struct ssmf_writer *w, const struct ssmf_flow_params *p, const char *filter,
                       int zstd_level, const struct ssmf_ingest_result *res,
                       const struct ssmf_flow_counters *fc, const struct ssmf_labels *labels)
{
	int rc = 0;
	rc |= ssmf_writer_attr_f64(w, "idle_timeout_s", (double)p->idle_timeout_ns * 1e-9);
	rc |= ssmf_writer_attr_f64(w, "active_timeout_s", (double)p->active_timeout_ns * 1e-9);
	rc |= ssmf_writer_attr_u64(w, "tcp_close", (uint64_t)p->tcp_close);
	rc |= ssmf_writer_attr_f64(w, "tcp_close_grace_s", (double)p->tcp_close_grace_ns * 1e-9);
	rc |= ssmf_writer_attr_u64(w, "max_packets", p->max_packets);
	rc |= ssmf_writer_attr_u64(w, "memory_cap_bytes", p->memory_cap_bytes);
	rc |= ssmf_writer_attr_u64(w, "community_id_seed", p->community_id_seed);
	rc |= ssmf_writer_attr_str(w, "filter", filter ? filter : "");
	rc |= ssmf_writer_attr_u64(w, "zstd_level", (uint64_t)zstd_level);
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

/* Frees the label arguments on the way out of option parsing. */
static int la_free_then(struct ssmf_label_args *la, int code)
{
	ssmf_label_args_free(la);
	return code;
}

int cmd_extract(int argc, char **argv)
{
#define RC(v)                                                                                      \
	do {                                                                                       \
		code = (v);                                                                        \
		goto out;                                                                          \
	} while (0)
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"records", required_argument, NULL, 'W'},
	    {"filter", required_argument, NULL, 'f'},
	    SSMF_FLOW_LONG_OPTIONS,
	    {"tcp-grace", required_argument, NULL, 'G'},
	    {"max-packets", required_argument, NULL, 'P'},
	    {"zstd-level", required_argument, NULL, 'Z'},
	    SSMF_LABEL_LONG_OPTIONS,
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ssmf_label_args la;
	if (ssmf_label_args_init(&la, argc) != 0) {
		ssmf_error("out of memory");
		return SSMF_EXIT_INTERNAL;
	}
	struct ssmf_flow_params fp;
	ssmf_flow_params_default(&fp);
	struct ssmf_writer_opts wo;
	ssmf_writer_opts_default(&wo);
	const char *out = NULL, *filter = NULL, *records = NULL;
	int quiet = 0, c, code = SSMF_EXIT_OK;
	uint64_t v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			filter = optarg;
			break;
		case 'W':
			records = optarg;
			break;
		case 'G':
			if (ssmf_parse_seconds_ns(optarg, &fp.tcp_close_grace_ns))
				return la_free_then(
				    &la,
				    ssmf_usage_error("extract", "bad --tcp-grace '%s'", optarg));
			break;
		case 'P':
			if (ssmf_parse_u64(optarg, &v) || v == 0 || v > UINT32_MAX)
				return la_free_then(
				    &la,
				    ssmf_usage_error("extract", "bad --max-packets '%s'", optarg));
			fp.max_packets = (uint32_t)v;
			break;
		case 'Z':
			if (ssmf_parse_u64(optarg, &v) || v < 1 || v > 19)
				return la_free_then(
				    &la, ssmf_usage_error("extract",
				                          "bad --zstd-level '%s' (1..19)", optarg));
			wo.zstd_level = (int)v;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return la_free_then(&la, SSMF_EXIT_OK);
		default:
			switch (ssmf_shared_option("extract", c, optarg, &fp, &la)) {
			case 1:
				break;
			case 0:
				ssmf_label_args_free(&la);
				return la_free_then(&la,
				                    ssmf_usage_error("extract", "unknown option"));
			default:
				return la_free_then(&la, SSMF_EXIT_USAGE);
			}
		}
	}
	if (!out && !records)
		return la_free_then(
		    &la,
		    ssmf_usage_error("extract", "no output: give -o OUT.h5 or --records FILE"));
	if (out && strcmp(out, "-") == 0)
		return la_free_then(
		    &la, ssmf_usage_error("extract", "an HDF5 dataset cannot go to stdout"));
	if (optind >= argc)
		return la_free_then(&la, ssmf_usage_error("extract", "no input capture given"));
	if (ssmf_check_filter("extract", filter))
		return la_free_then(&la, SSMF_EXIT_USAGE);
	int nstdin = 0;
	for (int i = optind; i < argc; i++)
		nstdin += strcmp(argv[i], "-") == 0;
	if (nstdin > 1)
		return la_free_then(
		    &la, ssmf_usage_error("extract", "'-' (stdin) given more than once"));

	ssmf_signals_install();
	char err[1024];
	struct extract_ctx x = {.quiet = quiet};
	x.inputs = (const char *const *)argv + optind;
	x.input_first_flow = calloc((size_t)(argc - optind), sizeof *x.input_first_flow);
	if (!x.input_first_flow) {
		ssmf_error("out of memory");
		return la_free_then(&la, SSMF_EXIT_INTERNAL);
	}
	if (ssmf_label_args_given(&la) &&
	    !(x.labels = ssmf_labels_from_args("extract", &la, &code)))
		RC(code);
	x.t0 = ssmf_now();
	ssmf_progress_start(&x.progress, quiet, SSMF_PROGRESS_BYTES,
	                    ssmf_progress_input_bytes(x.inputs, (size_t)(argc - optind)), 0);
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
	struct ssmf_flowtable *t = ssmf_flowtable_new(&fp, sink_to_writer, &x);
	x.table = t;
	if (!t) {
		abort_outputs(&x);
		ssmf_error("out of memory");
		RC(SSMF_EXIT_INTERNAL);
	}
	struct ssmf_ingest_hooks hooks = {
	    .user = &x,
	    .warn = on_warn,
	    .progress = on_progress,
	    .should_stop = on_should_stop,
	    .input_started = on_input,
	    .record = records ? on_record : NULL,
	};
	struct ssmf_ingest_result res;
	int rc = ssmf_ingest((const char *const *)argv + optind, (size_t)(argc - optind), filter, t,
	                     &hooks, &res);
	ssmf_progress_clear(&x.progress);
	code = ssmf_report_inputs(&res);
	if (rc == 0 && !res.stopped && !ssmf_stop_signal())
		rc = ssmf_flowtable_flush(t);
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
		ssmf_flowtable_free(t);
		ssmf_ingest_result_free(&res);
		if (sig) {
			ssmf_error("interrupted by signal %d; no output written", sig);
			RC(128 + sig);
		}
		RC(out_err ? SSMF_EXIT_OUTPUT : SSMF_EXIT_INTERNAL);
	}
	if (res.refused == (int)res.ninputs) {
		ssmf_error("no input could be read; no output written");
		abort_outputs(&x);
		ssmf_flowtable_free(t);
		ssmf_ingest_result_free(&res);
		RC(SSMF_EXIT_INPUT);
	}
	const struct ssmf_flow_counters *fc = ssmf_flowtable_counters(t);
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
	} else if (write_attrs(x.writer, &fp, filter, wo.zstd_level, &res, fc, x.labels) != 0) {
		ssmf_error("%s", ssmf_writer_error(x.writer));
		abort_outputs(&x);
		code = SSMF_EXIT_OUTPUT;
	} else if (ssmf_writer_commit(x.writer, err, sizeof err) != 0) {
		ssmf_error("%s", err);
		code = SSMF_EXIT_OUTPUT;
	}
	if (code == SSMF_EXIT_OUTPUT) {
		ssmf_flowtable_free(t);
		ssmf_ingest_result_free(&res);
		RC(code);
	}
	if (!quiet) {
		struct ssmf_flow_counters shown = *fc;
		if (!out)
			shown.records_dropped = 0; /* no dataset, so nothing was meant to be kept */
		print_summary(out ? out : records, &res, &shown, nrec, ssmf_now() - x.t0);
	}
	ssmf_flowtable_free(t);
	ssmf_ingest_result_free(&res);
out:
	ssmf_labels_free(x.labels);
	free(x.input_first_flow);
	ssmf_label_args_free(&la);
	return code;
}
