/* ssmflow score: anomaly scores for captured traffic, with labels and evaluation. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "common/atomic_file.h"
#include "cmd/progress.h"
#include "cmd/shared_opts.h"
#include "datasets/reader.h"
#include "features/flowtable.h"
#include "features/ingest.h"
#include "cuda/ssm_cuda.h"
#include "score/default_model.h"
#include "score/evaluate.h"
#include "score/host_output.h"
#include "score/hosts.h"
#include "score/model_levels.h"
#include "datasets/labels.h"
#include "score/metrics.h"
#include "score/output.h"
#include "score/scorer.h"

static const char usage[] =
    "usage: ssmflow score [options] INPUT...\n"
    "\n"
    "Scores every flow of captures (pcap, pcapng, .gz, .zst, '-' for stdin) or of datasets\n"
    "made by 'ssmflow extract' under a model of normal traffic: the mean surprise per\n"
    "observation of the flow's packets (direction, size, gap, flags) and of its event in\n"
    "each endpoint's sequence of flows (role, size, interval, flags: the host level).\n"
    "Prints the most anomalous flows and hosts; -o writes them all.\n"
    "\n"
    "  -m, --model FILE         model checkpoint (default: the bundled model)\n"
    "  -o, --output FILE        write all flows to FILE ('-' for stdout)\n"
    "  -F, --format FMT         table, csv, jsonl or hdf5 (default: from the -o name's\n"
    "                           extension; a table on stdout without -o)\n"
    "      --top N              flows in the table (20)\n"
    "      --per-packet         also every packet's surprise (jsonl: a 'packets' array;\n"
    "                           csv: OUT.packets.csv; hdf5: packet_* columns)\n"
    "  -f, --filter EXPR        BPF filter for capture inputs\n"
    "      --labels FILE        ground truth: native CSV, CICFlowMeter CSV or Zeek conn.log\n"
    "      --label-rule N=EXPR  label flows matching a BPF expression N (repeatable)\n"
    "      --label-input N=GLOB label flows starting in inputs matching GLOB (repeatable)\n"
    "      --label-slack SEC    only label-file rows whose time window overlaps the\n"
    "                           flow's within SEC (default: ignore times)\n"
    "      --label-utc-offset H CICFlowMeter local time is UTC+H (e.g. -3)\n"
    "      --label-mdy          CICFlowMeter dates are month/day/year\n"
    "      --threshold X        flag flows with score >= X\n"
    "      --calibrate BENIGN   set the threshold so that at most --fpr of the flows of\n"
    "                           BENIGN (a capture or dataset of normal traffic) is flagged\n"
    "      --fpr F              false-positive rate for --calibrate (0.001)\n"
    "      --idle-timeout SEC, --active-timeout SEC, --tcp-close yes|no, --memory-cap SIZE\n"
    "                           flow table settings for captures, as for extract\n"
    "      --community-id-seed N  seed of each capture flow's Community ID (0)\n"
    "      --threads N          model threads (default: all cores)\n"
    "      --device cpu|cuda    where the model runs (cpu)\n"
    "      --gpu-flows N        with cuda and --mode step: flows whose state the GPU\n"
    "                           holds at once (65536)\n"
    "      --mode sequence|step captures: score each flow when it ends, in batches\n"
    "                           (sequence, the default), or packet by packet with a\n"
    "                           state per active flow (step, as the live pipeline)\n"
    "      --chunk N            sequence mode: a flow's packets scored at once (1024,\n"
    "                           at most 4096); longer flows go on chunk by chunk from\n"
    "                           their state\n"
    "      --hosts N            hosts in the table (10)\n"
    "      --host-weight X      predicted packets a flow's host score counts as (0.5; 0: the\n"
    "                           packet level alone, no host table)\n"
    "  -q, --quiet              no progress, no table or evaluation on the terminal\n"
    "  -h, --help               this help\n"
    "\n"
    "With labels, prints ROC-AUC, PR-AUC, TPR at FPR 1e-2 and 1e-3, the best F1 and the\n"
    "confusion matrix at the threshold over every labelled flow, the ROC-AUC over flows of\n"
    "2+ packets and the mean per input (labels benign, normal, background and legitimate,\n"
    "in any case, are the negative class).\n"
    "Exit codes: 0 ok, 1 usage, 2 an input, model or label file could not be read,\n"
    "3 a capture was damaged (packets before the damage were scored), 4 output error,\n"
    "5 internal error, 6 CUDA unavailable (built without CUDA, or no device),\n"
    "130/143 interrupted.\n";

struct score_opts {
	const char *model, *output, *filter;
	enum ssmf_score_format fmt;
	int fmt_set, per_packet, quiet, threads, gpu_flows, mode, chunk_packets;
	const struct ssmf_gpu_ops *gpu;
	size_t top, hosts_top;
	double threshold, fpr, host_weight;
	const char **calibrate;
	size_t ncalibrate;
	struct ssmf_flow_params fp;
};

static int is_dataset(const char *path)
{
	static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
	unsigned char b[8];
	if (strcmp(path, "-") == 0)
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(b, 1, 8, f);
	fclose(f);
	return n == 8 && memcmp(b, sig, 8) == 0;
}

struct capture_ctx {
	struct ssmf_scorer *sc;
	struct ssmf_flowtable *t;
	const char *const *paths;
	size_t next_input;
	struct ssmf_progress progress;
};

static int sink_to_scorer(void *user, const struct ssmf_flow_summary *s,
                          const struct ssmf_record *records)
{
	(void)records;
	struct capture_ctx *x = user;
	return ssmf_scorer_flow_end(x->sc, s);
}

static int flow_to_scorer(void *user, const struct ssmf_flow_summary *s,
                          const struct ssmf_record *records)
{
	struct capture_ctx *x = user;
	return ssmf_scorer_flow_records(x->sc, s, records);
}

static int chunk_to_scorer(void *user, uint32_t flow_id, const struct ssmf_record *records,
                           uint32_t n)
{
	struct capture_ctx *x = user;
	return ssmf_scorer_flow_chunk(x->sc, flow_id, records, n);
}

static int record_to_scorer(void *user, const struct ssmf_record *r)
{
	struct capture_ctx *x = user;
	return ssmf_scorer_record(x->sc, r);
}

static void on_warn(void *user, const char *msg)
{
	struct capture_ctx *x = user;
	ssmf_progress_clear(&x->progress); /* the warning gets the line */
	ssmf_warn("%s", msg);
}

static int on_should_stop(void *user)
{
	(void)user;
	return ssmf_stop_signal() != 0;
}

static int on_progress(void *user, uint64_t packets, uint64_t bytes_read)
{
	struct capture_ctx *x = user;
	char extra[32];
	snprintf(extra, sizeof extra, "%llu packets", (unsigned long long)packets);
	ssmf_progress_update(&x->progress, bytes_read, extra);
	return 0;
}

static void on_input(void *user, size_t index, const char *path)
{
	struct capture_ctx *x = user;
	(void)index;
	/* flow ids count the flows started: this input's flows have ids from here on */
	ssmf_scorer_set_input(x->sc, path, (uint32_t)ssmf_flowtable_counters(x->t)->flows);
}

/* What the summary reports about the inputs: the datasets' flows that extract cut at
 * --max-packets, or how the captures' packets were read. */
struct input_counts {
	uint64_t flows_cut;
	int captures;                   /* the inputs were captures: `read` is filled */
	struct ssmf_ingest_result read; /* counts only: no inputs */
};

/* Scores inputs (all captures, or all datasets) into sc and fills *counts. Returns an exit
 * code. */
static int score_inputs(struct ssmf_scorer *sc, const char *const *paths, size_t n,
                        const struct score_opts *o, struct ssmf_labels *labels,
                        struct input_counts *counts)
{
	size_t ndata = 0;
	for (size_t i = 0; i < n; i++)
		ndata += (size_t)is_dataset(paths[i]);
	if (ndata && ndata != n)
		return ssmf_usage_error("score", "give captures or datasets, not both");
	char err[1024];
	struct capture_ctx x = {.sc = sc, .paths = paths};
	ssmf_progress_start(&x.progress, o->quiet, SSMF_PROGRESS_BYTES,
	                    ssmf_progress_input_bytes(paths, n), 0);
	if (ndata) {
		uint64_t done = 0; /* datasets: progress input by input */
		for (size_t i = 0; i < n; i++) {
			struct ssmf_dataset *ds = ssmf_dataset_open(paths[i], err, sizeof err);
			if (!ds) {
				ssmf_error("%s", err);
				return SSMF_EXIT_INPUT;
			}
			size_t before;
			ssmf_scorer_results(sc, &before);
			counts->flows_cut += ssmf_dataset_flows_cut(ds);
			int rc = ssmf_scorer_dataset(sc, ds);
			if (rc != 0 && ssmf_stop_signal()) {
				ssmf_dataset_close(ds);
				return 128 + ssmf_stop_signal();
			}
			/* Labels the dataset carries (extract --labels), unless others are
			 * given: its label ids become ids in our name table. */
			size_t after;
			struct ssmf_flow_score *r = ssmf_scorer_results(sc, &after);
			for (size_t k = before; k < after; k++)
				r[k].source = r[k].input = (uint32_t)i;
			for (size_t k = before; rc == 0 && !ssmf_labels_active(labels) && k < after;
			     k++) {
				const char *name = ssmf_dataset_label_name(ds, r[k].s.label);
				r[k].s.label =
				    name ? ssmf_labels_intern(labels, name) : SSMF_LABEL_NONE;
			}
			ssmf_dataset_close(ds);
			done += ssmf_progress_input_bytes(&paths[i], 1);
			ssmf_progress_update(&x.progress, done, NULL);
			if (rc != 0) {
				ssmf_progress_clear(&x.progress);
				ssmf_error("%s: %s", paths[i], ssmf_scorer_error(sc));
				return SSMF_EXIT_INTERNAL;
			}
			if (ssmf_stop_signal())
				return 128 + ssmf_stop_signal();
		}
		ssmf_progress_clear(&x.progress);
		return SSMF_EXIT_OK;
	}
	struct ssmf_flow_params fp = o->fp;
	int step = o->mode == SSMF_SCORE_STEP;
	/* step mode: records go to the scorer as they come, none are kept; sequence mode:
	 * they wait in the table, a chunk at a time */
	fp.max_packets = step ? 1 : (uint32_t)o->chunk_packets;
	fp.extra_bytes_per_flow = ssmf_scorer_state_bytes(sc);
	struct ssmf_flowtable *t =
	    ssmf_flowtable_new(&fp, step ? sink_to_scorer : flow_to_scorer, &x);
	if (!t) {
		ssmf_error("out of memory");
		return SSMF_EXIT_INTERNAL;
	}
	x.t = t;
	if (!step)
		ssmf_flowtable_set_chunk_sink(t, chunk_to_scorer);
	struct ssmf_ingest_hooks hooks = {.user = &x,
	                                  .record = step ? record_to_scorer : NULL,
	                                  .warn = on_warn,
	                                  .should_stop = on_should_stop,
	                                  .progress = on_progress,
	                                  .input_started = on_input};
	struct ssmf_ingest_result res;
	int rc = ssmf_ingest(paths, n, o->filter, t, &hooks, &res);
	if (rc == 0 && !res.stopped)
		rc = ssmf_flowtable_flush(t);
	if (rc == 0 && !res.stopped)
		rc = ssmf_scorer_finish(sc);
	ssmf_progress_clear(&x.progress);
	int code = ssmf_report_inputs(&res);
	counts->captures = 1;
	counts->read = res;
	counts->read.inputs = NULL;
	counts->read.ninputs = 0;
	if (rc != 0) {
		ssmf_error("%s",
		           ssmf_scorer_error(sc)[0] ? ssmf_scorer_error(sc) : "out of memory");
		code = SSMF_EXIT_INTERNAL;
	}
	if (ssmf_stop_signal())
		code = 128 + ssmf_stop_signal();
	else if (res.refused == (int)res.ninputs)
		code = SSMF_EXIT_INPUT;
	ssmf_ingest_result_free(&res);
	ssmf_flowtable_free(t);
	return code;
}

static int worse(int a, int b)
{
	return b > a ? b : a;
}

/* An output file, or stdout for "-": out->fp is where to write. */
static int open_output(const char *path, struct ssmf_atomic_file *out, char *err, size_t errlen)
{
	if (strcmp(path, "-") == 0) {
		*out = (struct ssmf_atomic_file){.fd = -1, .fp = stdout};
		return 0;
	}
	return ssmf_atomic_fopen(out, path, err, errlen);
}

static int close_output(struct ssmf_atomic_file *out, char *err, size_t errlen)
{
	if (out->fp == stdout && !out->path)
		return fflush(stdout) == 0 ? 0 : -1;
	return ssmf_atomic_commit(out, err, errlen);
}

static enum ssmf_score_format format_from_name(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot)
		return SSMF_FMT_TABLE;
	if (strcmp(dot, ".csv") == 0)
		return SSMF_FMT_CSV;
	if (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".json") == 0 || strcmp(dot, ".ndjson") == 0)
		return SSMF_FMT_JSONL;
	if (strcmp(dot, ".h5") == 0 || strcmp(dot, ".hdf5") == 0)
		return SSMF_FMT_HDF5;
	return SSMF_FMT_TABLE;
}

/* OUT.SUFFIX beside the output ("scores.SUFFIX" when it goes to stdout). */
static char *side_path(const char *output, const char *suffix)
{
	const char *base = strcmp(output, "-") == 0 ? "scores" : output;
	size_t len = strlen(base) + strlen(suffix) + 2;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%s.%s", base, suffix);
	return p;
}

/* The host table beside the flows: OUT.hosts.csv or OUT.hosts.jsonl. */
static int write_hosts_file(const char *output, const struct ssmf_host_results *h, int csv)
{
	char *path = side_path(output, csv ? "hosts.csv" : "hosts.jsonl"), err[1024];
	struct ssmf_atomic_file out;
	if (!path) {
		ssmf_error("out of memory");
		return SSMF_EXIT_INTERNAL;
	}
	if (ssmf_atomic_fopen(&out, path, err, sizeof err) != 0) {
		ssmf_error("%s", err);
		free(path);
		return SSMF_EXIT_OUTPUT;
	}
	int rc = csv ? ssmf_write_hosts_csv(out.fp, h) : ssmf_write_hosts_jsonl(out.fp, h);
	if (rc != 0)
		out.failed_errno = errno ? errno : EIO;
	if (ssmf_atomic_commit(&out, err, sizeof err) != 0) {
		ssmf_error("%s", err);
		rc = -1;
	}
	free(path);
	return rc ? SSMF_EXIT_OUTPUT : SSMF_EXIT_OK;
}

static int write_outputs(const struct score_opts *o, struct ssmf_flow_score *r, size_t n,
                         const struct ssmf_host_results *hosts, const struct ssmf_labels *labels,
                         const struct ssmf_evaluation *m)
{
	char err[1024];
	if (!o->output) {
		if (!o->quiet) {
			ssmf_write_table(stdout, r, n, o->top, labels, isfinite(o->threshold));
			ssmf_write_host_table(stdout, hosts, o->hosts_top);
		}
		return SSMF_EXIT_OK;
	}
	enum ssmf_score_format fmt = o->fmt_set ? o->fmt : format_from_name(o->output);
	if (fmt == SSMF_FMT_HDF5) {
		if (strcmp(o->output, "-") == 0)
			return ssmf_usage_error("score", "HDF5 output cannot go to stdout");
		if (ssmf_write_scores_h5(o->output, r, n, hosts, labels, o->per_packet,
		                         o->threshold, m, err, sizeof err) != 0) {
			ssmf_error("%s", err);
			return SSMF_EXIT_OUTPUT;
		}
		return SSMF_EXIT_OK;
	}
	struct ssmf_atomic_file out, pout = {.fd = -1};
	char *ppath = NULL;
	if (open_output(o->output, &out, err, sizeof err) != 0) {
		ssmf_error("%s", err);
		return SSMF_EXIT_OUTPUT;
	}
	FILE *f = out.fp, *pf = NULL;
	if (fmt == SSMF_FMT_CSV && o->per_packet) {
		const char *base = strcmp(o->output, "-") == 0 ? "scores" : o->output;
		size_t len = strlen(base) + 16;
		ppath = malloc(len);
		if (ppath)
			snprintf(ppath, len, "%s.packets.csv", base);
		else
			snprintf(err, sizeof err, "%s: out of memory", base);
		if (!ppath || open_output(ppath, &pout, err, sizeof err) != 0) {
			ssmf_error("%s", err);
			if (out.path)
				ssmf_atomic_abort(&out);
			free(ppath);
			return SSMF_EXIT_OUTPUT;
		}
		pf = pout.fp;
	}
	int rc;
	if (fmt == SSMF_FMT_CSV)
		rc = ssmf_write_csv(f, pf, r, n, labels);
	else if (fmt == SSMF_FMT_JSONL)
		rc = ssmf_write_jsonl(f, r, n, labels, o->per_packet);
	else {
		ssmf_write_table(f, r, n, n, labels, isfinite(o->threshold));
		ssmf_write_host_table(f, hosts, hosts->n);
		rc = ferror(f) ? -1 : 0;
	}
	if (rc != 0) { /* the reason is in errno; commit reports it */
		out.failed_errno = errno ? errno : EIO;
		pout.failed_errno = out.failed_errno;
	}
	if (rc == 0 && (fmt == SSMF_FMT_CSV || fmt == SSMF_FMT_JSONL) && hosts->n &&
	    write_hosts_file(o->output, hosts, fmt == SSMF_FMT_CSV) != 0)
		rc = -1;
	if (pf && close_output(&pout, err, sizeof err) != 0)
		rc = -1;
	if (close_output(&out, err, sizeof err) != 0)
		rc = -1;
	if (rc != 0)
		ssmf_error("%s: write failed (disk full?)", o->output);
	free(ppath);
	return rc ? SSMF_EXIT_OUTPUT : SSMF_EXIT_OK;
}

int cmd_score(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"model", required_argument, NULL, 'm'},
	    {"output", required_argument, NULL, 'o'},
	    {"format", required_argument, NULL, 'F'},
	    {"top", required_argument, NULL, 'T'},
	    {"per-packet", no_argument, NULL, 'P'},
	    {"filter", required_argument, NULL, 'f'},
	    SSMF_LABEL_LONG_OPTIONS,
	    {"threshold", required_argument, NULL, 't'},
	    {"calibrate", required_argument, NULL, 'c'},
	    {"fpr", required_argument, NULL, 'r'},
	    SSMF_FLOW_LONG_OPTIONS,
	    {"threads", required_argument, NULL, 'j'},
	    {"device", required_argument, NULL, 'D'},
	    {"gpu-flows", required_argument, NULL, 'G'},
	    {"hosts", required_argument, NULL, 'H'},
	    {"host-weight", required_argument, NULL, 'W'},
	    {"mode", required_argument, NULL, 'M'},
	    {"chunk", required_argument, NULL, 'C'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct score_opts o = {.top = 20,
	                       .hosts_top = 10,
	                       .threshold = NAN,
	                       .fpr = 1e-3,
	                       .host_weight = SSMF_HOST_WEIGHT_DEFAULT,
	                       .gpu_flows = 65536,
	                       .mode = SSMF_SCORE_SEQUENCE,
	                       .chunk_packets = 1024};
	ssmf_flow_params_default(&o.fp);
	struct ssmf_label_args la;
	int la_ok = ssmf_label_args_init(&la, argc) == 0;
	o.calibrate = calloc((size_t)argc, sizeof *o.calibrate);
	int c, code = SSMF_EXIT_OK;
	uint64_t v;
	char *end;
	if (!la_ok || !o.calibrate) {
		ssmf_error("out of memory");
		return SSMF_EXIT_INTERNAL;
	}
#define USAGE(...)                                                                                 \
	do {                                                                                       \
		code = ssmf_usage_error("score", __VA_ARGS__);                                     \
		goto done;                                                                         \
	} while (0)
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:o:F:f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o.model = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case 'F':
			o.fmt_set = 1;
			if (strcmp(optarg, "table") == 0)
				o.fmt = SSMF_FMT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				o.fmt = SSMF_FMT_CSV;
			else if (strcmp(optarg, "jsonl") == 0 || strcmp(optarg, "json") == 0)
				o.fmt = SSMF_FMT_JSONL;
			else if (strcmp(optarg, "hdf5") == 0 || strcmp(optarg, "h5") == 0)
				o.fmt = SSMF_FMT_HDF5;
			else
				USAGE("bad --format '%s' (table, csv, jsonl, hdf5)", optarg);
			break;
		case 'T':
			if (ssmf_parse_u64(optarg, &v))
				USAGE("bad --top '%s'", optarg);
			o.top = (size_t)v;
			break;
		case 'P':
			o.per_packet = 1;
			break;
		case 'f':
			o.filter = optarg;
			break;
		case 't':
			o.threshold = strtod(optarg, &end);
			if (*end || !isfinite(o.threshold))
				USAGE("bad --threshold '%s'", optarg);
			break;
		case 'c':
			o.calibrate[o.ncalibrate++] = optarg;
			break;
		case 'r':
			o.fpr = strtod(optarg, &end);
			if (*end || !(o.fpr > 0 && o.fpr < 1))
				USAGE("bad --fpr '%s' (between 0 and 1)", optarg);
			break;
		case 'j':
			if (ssmf_parse_u64(optarg, &v) || v < 1 || v > 1024)
				USAGE("bad --threads '%s'", optarg);
			o.threads = (int)v;
			break;
		case 'D':
			if (strcmp(optarg, "cpu") == 0)
				o.gpu = NULL;
			else if (strcmp(optarg, "cuda") == 0)
				o.gpu = &ssmf_gpu_cuda;
			else if (strcmp(optarg, "cuda-emulated") ==
			         0) /* tests: kernels on the CPU */
				o.gpu = &ssmf_gpu_emulated;
			else
				USAGE("bad --device '%s' (cpu|cuda)", optarg);
			break;
		case 'G':
			if (ssmf_parse_u64(optarg, &v) || v < 1 || v > (1u << 24))
				USAGE("bad --gpu-flows '%s'", optarg);
			o.gpu_flows = (int)v;
			break;
		case 'H':
			if (ssmf_parse_u64(optarg, &v))
				USAGE("bad --hosts '%s'", optarg);
			o.hosts_top = (size_t)v;
			break;
		case 'W':
			o.host_weight = strtod(optarg, &end);
			if (*end || !(o.host_weight >= 0) || !isfinite(o.host_weight))
				USAGE("bad --host-weight '%s' (0 or more)", optarg);
			break;
		case 'M':
			if (strcmp(optarg, "sequence") == 0)
				o.mode = SSMF_SCORE_SEQUENCE;
			else if (strcmp(optarg, "step") == 0)
				o.mode = SSMF_SCORE_STEP;
			else
				USAGE("bad --mode '%s' (sequence|step)", optarg);
			break;
		case 'C':
			if (ssmf_parse_u64(optarg, &v) || v < 1 || v > SSMF_MAX_CHUNK)
				USAGE("bad --chunk '%s' (1..%d)", optarg, SSMF_MAX_CHUNK);
			o.chunk_packets = (int)v;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			goto done;
		default:
			switch (ssmf_shared_option("score", c, optarg, &o.fp, &la)) {
			case 1:
				break;
			case 0:
				USAGE("unknown option");
			default:
				code = SSMF_EXIT_USAGE;
				goto done;
			}
		}
	}
	if (optind >= argc)
		USAGE("no input given");
	if (o.ncalibrate && isfinite(o.threshold))
		USAGE("give --threshold or --calibrate, not both");
	if (ssmf_check_filter("score", o.filter)) {
		code = SSMF_EXIT_USAGE;
		goto done;
	}

	char err[1024];
	if (o.gpu == &ssmf_gpu_cuda && ssmf_cuda_available(err, sizeof err) < 0) {
		ssmf_error("--device cuda: %s", err);
		code = SSMF_EXIT_NO_CUDA;
		goto done;
	}
	ssmf_signals_install();
	if (o.threads)
		ssmf_set_threads(o.threads);
	struct ssmf_labels *labels = ssmf_labels_from_args("score", &la, &code);
	struct ssmf_model *model = NULL, *host_model = NULL;
	struct ssmf_scorer *sc = NULL, *cal = NULL;
	struct ssmf_host_results hosts = {0};
	struct input_counts counts = {0}, cal_counts = {0};
	if (!labels)
		goto done;
	if (ssmf_model_levels_load(o.model, &model, &host_model, err, sizeof err) < 0) {
		ssmf_error("%s", err);
		code = SSMF_EXIT_INPUT;
		goto cleanup;
	}
	struct ssmf_scorer_opts so;
	ssmf_scorer_opts_default(&so);
	so.per_packet = o.per_packet;
	so.labels = labels;
	so.gpu = o.gpu;
	so.gpu_flows = o.gpu_flows;
	so.should_stop = ssmf_stop_signal;
	so.mode = o.mode;
	so.chunk_packets = o.chunk_packets;
	if (o.ncalibrate) {
		struct ssmf_scorer_opts co = so;
		co.per_packet = 0;
		co.labels = NULL;
		cal = ssmf_scorer_new(model, &co, err, sizeof err);
		if (!cal) {
			ssmf_error("%s", err);
			code = SSMF_EXIT_INTERNAL;
			goto cleanup;
		}
		code = score_inputs(cal, o.calibrate, o.ncalibrate, &o, labels, &cal_counts);
		if (ssmf_stop_signal()) {
			ssmf_error("interrupted by signal %d; no output written",
			           ssmf_stop_signal());
			code = 128 + ssmf_stop_signal();
			goto cleanup;
		}
		if (code != SSMF_EXIT_OK && code != SSMF_EXIT_PARTIAL)
			goto cleanup;
		size_t nc;
		struct ssmf_flow_score *cr = ssmf_scorer_results(cal, &nc);
		if (host_model && o.host_weight > 0) {
			struct ssmf_host_results ch;
			if (ssmf_hosts_score(host_model, cr, nc, o.host_weight, &ch, err,
			                     sizeof err) < 0) {
				ssmf_error("--calibrate: host level: %s", err);
				code = SSMF_EXIT_INTERNAL;
				goto cleanup;
			}
			ssmf_host_results_free(&ch);
		}
		double *s = malloc((nc ? nc : 1) * sizeof *s);
		for (size_t i = 0; s && i < nc; i++)
			s[i] = cr[i].score;
		o.threshold = s && nc ? ssmf_threshold_for_fpr(s, nc, o.fpr) : NAN;
		free(s);
		if (!isfinite(o.threshold)) {
			ssmf_error("--calibrate: no flows in the benign input(s)");
			code = SSMF_EXIT_INPUT;
			goto cleanup;
		}
		if (!o.quiet)
			fprintf(stderr, "calibrated on %zu benign flows: threshold %.6f (FPR %g)\n",
			        nc, o.threshold, o.fpr);
	}
	sc = ssmf_scorer_new(model, &so, err, sizeof err);
	if (!sc) {
		ssmf_error("%s", err);
		code = SSMF_EXIT_INTERNAL;
		goto cleanup;
	}
	int rc = score_inputs(sc, (const char *const *)argv + optind, (size_t)(argc - optind), &o,
	                      labels, &counts);
	if (ssmf_stop_signal()) {
		ssmf_error("interrupted by signal %d; no output written", ssmf_stop_signal());
		code = 128 + ssmf_stop_signal();
		goto cleanup;
	}
	code = worse(code == SSMF_EXIT_PARTIAL ? SSMF_EXIT_OK : code, rc);
	if (rc != SSMF_EXIT_OK && rc != SSMF_EXIT_PARTIAL && rc != SSMF_EXIT_INPUT)
		goto cleanup;
	size_t n;
	struct ssmf_flow_score *r = ssmf_scorer_results(sc, &n);
	if (!n && rc == SSMF_EXIT_INPUT)
		goto cleanup;
	if (host_model && o.host_weight > 0 &&
	    ssmf_hosts_score(host_model, r, n, o.host_weight, &hosts, err, sizeof err) < 0) {
		ssmf_error("host level: %s", err);
		code = SSMF_EXIT_INTERNAL;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		r[i].flagged = isfinite(o.threshold) && r[i].score >= o.threshold;
	ssmf_scores_sort(r, n);

	/* Evaluation over the labelled flows. */
	struct ssmf_evaluation ev;
	if (ssmf_evaluate(r, n, labels, o.threshold, &ev) < 0) {
		ssmf_error("out of memory");
		code = SSMF_EXIT_INTERNAL;
		goto cleanup;
	}
	if (!ev.have_all && ssmf_labels_active(labels) && !o.quiet)
		ssmf_warn("labels matched no attack and benign flows to compare");
	code = worse(code, write_outputs(&o, r, n, &hosts, labels, ev.have_all ? &ev : NULL));
	if (ev.have_all && !o.quiet)
		ssmf_write_evaluation(o.output && strcmp(o.output, "-") == 0 ? stderr : stdout,
		                      &ev);
	if (!o.quiet && counts.flows_cut)
		fprintf(stderr,
		        "%zu flows, %llu packets scored; %llu flows had more packets than the "
		        "dataset kept (extract --max-packets): only the packets kept were scored\n",
		        n, (unsigned long long)ssmf_scorer_packets(sc),
		        (unsigned long long)counts.flows_cut);
	else if (!o.quiet)
		fprintf(stderr, "%zu flows, %llu packets scored\n", n,
		        (unsigned long long)ssmf_scorer_packets(sc));
	if (!o.quiet && counts.captures) {
		const struct ssmf_ingest_result *in = &counts.read;
		uint64_t skipped = 0;
		for (int i = 1; i < SSMF_SKIP_COUNT; i++)
			skipped += in->skipped[i];
		fprintf(stderr, "  %llu packets read, %llu decoded, %llu skipped\n",
		        (unsigned long long)in->packets_read,
		        (unsigned long long)in->packets_decoded, (unsigned long long)skipped);
		ssmf_print_skipped(in);
	}
cleanup:
	ssmf_scorer_free(sc);
	ssmf_scorer_free(cal);
	ssmf_host_results_free(&hosts);
	ssmf_model_free(host_model);
	ssmf_model_free(model);
	ssmf_labels_free(labels);
done:
	ssmf_label_args_free(&la);
	free(o.calibrate);
	return code;
}
