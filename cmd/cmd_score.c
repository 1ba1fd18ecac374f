/* ssmflow score: anomaly scores for captured traffic, with labels and evaluation. */
#include <errno.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/options.h"
#include "ssmf_version.h"
#include "common/atomic_file.h"
#include "cmd/progress.h"
#include "cmd/shared_opts.h"
#include "cuda/devices.h"
#include "score/default_model.h"
#include "score/host_output.h"
#include "score/inputs.h"
#include "score/model_levels.h"
#include "datasets/labels.h"
#include "datasets/reader.h"
#include "score/output.h"
#include "score/report.h"
#include "score/scorer.h"
#include "score/verdict.h"

static const char synopsis[] =
    "usage: ssmflow score [options] INPUT...\n"
    "\n"
    "Scores every flow of captures (pcap, pcapng, .gz, .zst, '-' for stdin) or of datasets\n"
    "made by 'ssmflow extract' under a model of normal traffic: the mean surprise per\n"
    "observation of the flow's packets (direction, size, gap, flags) and of its event in\n"
    "each endpoint's sequence of flows (role, size, interval, flags: the host level).\n"
    "Prints the most anomalous flows and hosts; -o writes them all.\n"
    "\n";
static const char epilogue[] =
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
	int fmt; /* enum ssmf_score_format, or -1: from the -o name */
	int quiet, threads, device;
	size_t top, hosts_top, report_top;
	const char *report;
	struct ssmf_report_inputs *inputs; /* the inputs' provenance, for the report */
	double threshold, fpr, host_weight, activity_weight, evidence_weight, peak_weight;
	struct ssmf_opt_list calibrate;
	struct ssmf_flow_params fp;
	struct ssmf_label_args la;
	struct ssmf_scorer_opts so;
};

static const struct ssmf_opt_choice formats[] = {
    {"table", SSMF_FMT_TABLE, 0},
    {"csv", SSMF_FMT_CSV, 0},
    {"jsonl", SSMF_FMT_JSONL, 0},
    {"json", SSMF_FMT_JSONL, 1},
    {"hdf5", SSMF_FMT_HDF5, 0},
    {"h5", SSMF_FMT_HDF5, 1},
    {NULL, 0, 0},
};
static const struct ssmf_opt_choice devices[] = {SSMF_DEVICES(SSMF_DEVICE_CHOICE){NULL, 0, 0}};
static const struct ssmf_opt_choice modes[] = {
    {"sequence", SSMF_SCORE_SEQUENCE, 0},
    {"step", SSMF_SCORE_STEP, 0},
    {NULL, 0, 0},
};

#define O(member) offsetof(struct score_opts, member)
static const struct ssmf_opt score_opts_table[] = {
    {.name = "model",
     .short_name = 'm',
     .arg = "FILE",
     .type = SSMF_OPT_STRING,
     .offset = O(model),
     .help = "model checkpoint",
     .def = "the model bundled in the binary"},
    {.name = "output",
     .short_name = 'o',
     .arg = "FILE",
     .type = SSMF_OPT_STRING,
     .offset = O(output),
     .help = "write all flows to FILE ('-' for stdout)"},
    {.name = "format",
     .short_name = 'F',
     .arg = "FMT",
     .type = SSMF_OPT_CHOICE,
     .offset = O(fmt),
     .choices = formats,
     .help = "table, csv, jsonl or hdf5",
     .def = "from the extension of the -o name; else a table"},
    {.name = "top",
     .arg = "N",
     .type = SSMF_OPT_SIZE,
     .offset = O(top),
     .help = "flows in the table"},
    {.name = "per-packet",
     .type = SSMF_OPT_FLAG,
     .offset = O(so.per_packet),
     .help = "also every packet's surprise (jsonl: a 'packets' array; csv: OUT.packets.csv; "
             "hdf5: packet_* columns)"},
    {.name = "report",
     .arg = "FILE",
     .type = SSMF_OPT_STRING,
     .offset = O(report),
     .help = "also an analyst's report of the run: one self-contained HTML page (figures, the "
             "top flows and their packets, hosts, evaluation); with or without -o"},
    {.name = "report-top",
     .arg = "N",
     .type = SSMF_OPT_SIZE,
     .offset = O(report_top),
     .hi = 100000,
     .help = "flows in the report"},
    {.name = "filter",
     .short_name = 'f',
     .arg = "EXPR",
     .type = SSMF_OPT_STRING,
     .offset = O(filter),
     .help = "BPF filter for capture inputs"},
    SSMF_LABEL_ROWS(struct score_opts, la),
    {.name = "threshold",
     .arg = "X",
     .type = SSMF_OPT_F64,
     .offset = O(threshold),
     .help = "flag flows with score >= X"},
    {.name = "calibrate",
     .arg = "BENIGN",
     .type = SSMF_OPT_LIST,
     .offset = O(calibrate),
     .help = "set the threshold so that at most --fpr of the flows of BENIGN (a capture or "
             "dataset of normal traffic) is flagged"},
    {.name = "fpr",
     .arg = "F",
     .type = SSMF_OPT_F64,
     .offset = O(fpr),
     .lo = 0,
     .hi = 1,
     .open_lo = 1,
     .open_hi = 1,
     .help = "false-positive rate for --calibrate"},
    SSMF_FLOW_TIMEOUT_ROWS(struct score_opts, fp),
    SSMF_FLOW_TABLE_ROWS(struct score_opts, fp),
    {.name = "threads",
     .arg = "N",
     .type = SSMF_OPT_I32,
     .offset = O(threads),
     .lo = 1,
     .hi = 1024,
     .help = "model threads",
     .def = "all cores"},
    {.name = "device",
     .arg = "cpu|cuda",
     .type = SSMF_OPT_CHOICE,
     .offset = O(device),
     .choices = devices,
     .help = "where the model runs"},
    {.name = "gpu-flows",
     .arg = "N",
     .type = SSMF_OPT_I32,
     .offset = O(so.gpu_flows),
     .lo = 1,
     .hi = 1 << 24,
     .help = "with cuda and --mode step: flows whose state the GPU holds at once"},
    {.name = "mode",
     .arg = "sequence|step",
     .type = SSMF_OPT_CHOICE,
     .offset = O(so.mode),
     .choices = modes,
     .help = "captures: score each flow when it ends, in batches (sequence), or packet by "
             "packet with a state per active flow (step, as the live pipeline)"},
    {.name = "chunk",
     .arg = "N",
     .type = SSMF_OPT_I32,
     .offset = O(so.chunk_packets),
     .lo = 1,
     .hi = SSMF_MAX_CHUNK,
     .help = "sequence mode: a flow's packets scored at once; longer flows go on chunk by "
             "chunk from their state"},
    {.name = "hosts",
     .arg = "N",
     .type = SSMF_OPT_SIZE,
     .offset = O(hosts_top),
     .help = "hosts in the table"},
    {.name = "host-weight",
     .arg = "X",
     .type = SSMF_OPT_F64,
     .offset = O(host_weight),
     .lo = 0,
     .hi = INFINITY,
     .help = "predicted packets a flow's host score counts as",
     .note = "0: the packet level alone, no host table"},
    {.name = "activity-weight",
     .arg = "X",
     .type = SSMF_OPT_F64,
     .offset = O(activity_weight),
     .lo = 0,
     .hi = INFINITY,
     .help = "weight of a flow's activity surprise (its hosts' recent connection rate, "
             "repeats and new peers against normal hosts) in its score",
     .note = "0: off"},
    {.name = "evidence-weight",
     .arg = "X",
     .type = SSMF_OPT_F64,
     .offset = O(evidence_weight),
     .lo = 0,
     .hi = INFINITY,
     .help = "weight of a flow's packets' evidence as a whole (their excess surprise over "
             "normal flows', by the square root of their number) in its score",
     .note = "0: off"},
    {.name = "peak-weight",
     .arg = "X",
     .type = SSMF_OPT_F64,
     .offset = O(peak_weight),
     .lo = 0,
     .hi = INFINITY,
     .help = "weight of a flow's most surprising packet (max_surprise) in its score",
     .note = "0: off"},
    {.name = "quiet",
     .short_name = 'q',
     .type = SSMF_OPT_FLAG,
     .offset = O(quiet),
     .help = "no progress, no table or evaluation on the terminal"},
    {.name = "help", .short_name = 'h', .type = SSMF_OPT_FLAG, .help = "this help"},
    SSMF_OPT_END,
};
#undef O

static const struct ssmf_command_opts score_cmd = {"score", synopsis, epilogue, score_opts_table};

struct progress_ctx {
	struct ssmf_progress line;
};

static void on_warn(void *user, const char *msg)
{
	struct progress_ctx *x = user;
	ssmf_progress_clear(&x->line); /* the warning gets the line */
	ssmf_warn("%s", msg);
}

static int on_should_stop(void *user)
{
	(void)user;
	return ssmf_stop_signal() != 0;
}

static void on_progress(void *user, uint64_t packets, uint64_t bytes_read, uint64_t flows)
{
	struct progress_ctx *x = user;
	char extra[32];
	(void)flows;
	snprintf(extra, sizeof extra, "%llu packets", (unsigned long long)packets);
	ssmf_progress_update(&x->line, bytes_read, extra);
}

/* The provenance of one input, for the HDF5 output's /inputs and the report. 0, or -1 out of
 * memory. */
static int keep_input(const struct score_opts *o, const struct ssmf_input_info *in, const char *via,
                      int calibration)
{
	if (ssmf_report_add_input(o->inputs, in, via, calibration) == 0)
		return 0;
	ssmf_error("out of memory");
	return -1;
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
                        struct input_counts *counts, int calibration)
{
	size_t ndata = 0;
	for (size_t i = 0; i < n; i++)
		ndata += (size_t)ssmf_is_dataset(paths[i]);
	if (ndata && ndata != n)
		return ssmf_usage_error("score", "give captures or datasets, not both");
	char err[1024];
	struct progress_ctx x;
	ssmf_progress_start(&x.line, o->quiet, SSMF_PROGRESS_BYTES,
	                    ssmf_progress_input_bytes(paths, n), 0);
	if (ndata) {
		uint64_t done = 0; /* datasets: progress input by input */
		for (size_t i = 0; i < n; i++) {
			int rc = ssmf_scorer_dataset_file(sc, paths[i], (uint32_t)i, labels,
			                                  &counts->flows_cut, o->inputs,
			                                  calibration, err, sizeof err);
			if (rc == SSMF_SCORE_E_OPEN || rc == SSMF_SCORE_E_MEMORY) {
				ssmf_error("%s", err);
				return rc == SSMF_SCORE_E_OPEN ? SSMF_EXIT_INPUT
				                               : SSMF_EXIT_INTERNAL;
			}
			if (rc != 0 && ssmf_stop_signal())
				return 128 + ssmf_stop_signal();
			done += ssmf_progress_input_bytes(&paths[i], 1);
			ssmf_progress_update(&x.line, done, NULL);
			if (rc != 0) {
				ssmf_progress_clear(&x.line);
				ssmf_error("%s: %s", paths[i], ssmf_scorer_error(sc));
				return SSMF_EXIT_INTERNAL;
			}
			if (ssmf_stop_signal())
				return 128 + ssmf_stop_signal();
		}
		ssmf_progress_clear(&x.line);
		return SSMF_EXIT_OK;
	}
	struct ssmf_score_observer obs = {
	    .user = &x, .warn = on_warn, .should_stop = on_should_stop, .progress = on_progress};
	struct ssmf_capture_result res;
	int rc = ssmf_scorer_captures(sc, paths, n, o->filter, &o->fp, &obs, &res);
	ssmf_progress_clear(&x.line);
	if (rc == SSMF_CAPTURE_NO_TABLE) {
		ssmf_error("out of memory");
		return SSMF_EXIT_INTERNAL;
	}
	int code = ssmf_report_inputs(&res.in);
	counts->captures = 1;
	counts->read = res.in;
	counts->read.inputs = NULL;
	counts->read.ninputs = 0;
	for (size_t i = 0; i < res.in.ninputs; i++)
		if (keep_input(o, &res.in.inputs[i], NULL, calibration))
			code = SSMF_EXIT_INTERNAL;
	if (rc != 0) {
		ssmf_error("%s",
		           ssmf_scorer_error(sc)[0] ? ssmf_scorer_error(sc) : "out of memory");
		code = SSMF_EXIT_INTERNAL;
	}
	if (ssmf_stop_signal())
		code = 128 + ssmf_stop_signal();
	else if (res.in.refused == (int)res.in.ninputs)
		code = SSMF_EXIT_INPUT;
	ssmf_capture_result_free(&res);
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
	enum ssmf_score_format fmt =
	    o->fmt >= 0 ? (enum ssmf_score_format)o->fmt : format_from_name(o->output);
	if (fmt == SSMF_FMT_HDF5) {
		if (strcmp(o->output, "-") == 0)
			return ssmf_usage_error("score", "HDF5 output cannot go to stdout");
		if (ssmf_write_scores_h5(o->output, r, n, hosts, o->inputs, labels,
		                         o->so.per_packet, o->threshold, m, err, sizeof err) != 0) {
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
	if (fmt == SSMF_FMT_CSV && o->so.per_packet) {
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
		rc = ssmf_write_jsonl(f, r, n, labels, o->so.per_packet);
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

/* The report of the run (--report). Returns an exit code. */
static int write_report(const struct score_opts *o, const struct ssmf_flow_score *r, size_t n,
                        const struct ssmf_host_results *hosts, const struct ssmf_labels *labels,
                        const struct ssmf_evaluation *ev, uint64_t packets)
{
	struct ssmf_report_run run = {.version = SSMF_VERSION_STRING,
	                              .model = o->model,
	                              .threshold = o->threshold,
	                              .threshold_from = o->calibrate.n           ? "--calibrate"
	                                                : isfinite(o->threshold) ? "--threshold"
	                                                                         : NULL,
	                              .fpr = o->fpr,
	                              .host_weight = o->host_weight,
	                              .mode = o->so.mode == SSMF_SCORE_STEP ? "step" : "sequence",
	                              .top = o->report_top,
	                              .packets = packets};
	char err[1024];
	if (ssmf_write_report(o->report, &run, o->inputs, r, n, hosts, labels, ev, err,
	                      sizeof err) != 0) {
		ssmf_error("%s", err);
		return SSMF_EXIT_OUTPUT;
	}
	return SSMF_EXIT_OK;
}

int cmd_score(int argc, char **argv)
{
	struct ssmf_report_inputs inputs = {0};
	struct score_opts o = {.fmt = -1,
	                       .top = 20,
	                       .hosts_top = 10,
	                       .report_top = 100,
	                       .inputs = &inputs,
	                       .threshold = NAN,
	                       .fpr = 1e-3,
	                       .host_weight = SSMF_HOST_WEIGHT_DEFAULT,
	                       .activity_weight = SSMF_ACTIVITY_WEIGHT_DEFAULT,
	                       .evidence_weight = SSMF_EVIDENCE_WEIGHT_DEFAULT,
	                       .peak_weight = SSMF_PEAK_WEIGHT_DEFAULT,
	                       .device = SSMF_DEVICE_CPU};
	ssmf_flow_params_default(&o.fp);
	ssmf_label_args_init(&o.la);
	ssmf_scorer_opts_default(&o.so);
	int code = SSMF_EXIT_OK, first = 0;
#define USAGE(...)                                                                                 \
	do {                                                                                       \
		code = ssmf_usage_error("score", __VA_ARGS__);                                     \
		goto done;                                                                         \
	} while (0)
	int prc = ssmf_opts_parse(&score_cmd, &o, argc, argv, &first, NULL);
	if (prc) {
		code = prc < 0 ? SSMF_EXIT_OK : prc;
		goto done;
	}
	if (first >= argc)
		USAGE("no input given");
	if (o.calibrate.n && isfinite(o.threshold))
		USAGE("give --threshold or --calibrate, not both");
	if (ssmf_check_filter("score", o.filter)) {
		code = SSMF_EXIT_USAGE;
		goto done;
	}

	char err[1024];
	if (o.device == SSMF_DEVICE_CUDA && ssmf_cuda_available(err, sizeof err) < 0) {
		ssmf_error("--device cuda: %s", err);
		code = SSMF_EXIT_NO_CUDA;
		goto done;
	}
	ssmf_signals_install();
	if (o.threads)
		ssmf_set_threads(o.threads);
	struct ssmf_labels *labels = ssmf_labels_from_args("score", &o.la, &code);
	struct ssmf_model *model = NULL, *host_model = NULL;
	struct ssmf_host_profile profile;
	struct ssmf_evidence evidence;
	struct ssmf_scorer *sc = NULL, *cal = NULL;
	struct ssmf_host_results hosts = {0};
	struct input_counts counts = {0}, cal_counts = {0};
	if (!labels)
		goto done;
	if (ssmf_model_levels_load(o.model, &model, &host_model, &profile, &evidence, err,
	                           sizeof err) < 0) {
		ssmf_error("%s", err);
		code = SSMF_EXIT_INPUT;
		goto cleanup;
	}
	const struct ssmf_host_level hl = {.model = host_model,
	                                   .profile = profile.events ? &profile : NULL,
	                                   .weight = o.host_weight,
	                                   .activity_weight = o.activity_weight,
	                                   .evidence = evidence.flows ? &evidence : NULL,
	                                   .evidence_weight = o.evidence_weight,
	                                   .peak_weight = o.peak_weight,
	                                   .gpu = ssmf_cuda_api_for((enum ssmf_device)o.device)};
	struct ssmf_scorer_opts so = o.so;
	so.per_packet = so.per_packet || o.report; /* the report draws its top flows' packets */
	so.labels = labels;
	so.gpu = ssmf_cuda_api_for((enum ssmf_device)o.device);
	so.should_stop = ssmf_stop_signal;
	if (o.calibrate.n) {
		struct ssmf_scorer_opts co = so;
		co.per_packet = 0;
		co.labels = NULL;
		cal = ssmf_scorer_new(model, &co, err, sizeof err);
		if (!cal) {
			ssmf_error("%s", err);
			code = SSMF_EXIT_INTERNAL;
			goto cleanup;
		}
		code = score_inputs(cal, o.calibrate.v, o.calibrate.n, &o, labels, &cal_counts, 1);
		ssmf_scorer_release(cal);
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
		int crc = ssmf_calibrate(cr, nc, &hl, o.fpr, &o.threshold, err, sizeof err);
		if (crc == -1) {
			ssmf_error("--calibrate: host level: %s", err);
			code = SSMF_EXIT_INTERNAL;
			goto cleanup;
		}
		if (crc < 0) {
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
	int rc = score_inputs(sc, (const char *const *)argv + first, (size_t)(argc - first), &o,
	                      labels, &counts, 0);
	ssmf_scorer_release(sc);
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
	struct ssmf_evaluation ev;
	if (ssmf_judge(r, n, &hl, o.threshold, labels, &hosts, &ev, err, sizeof err) < 0) {
		ssmf_error("%s", err);
		code = SSMF_EXIT_INTERNAL;
		goto cleanup;
	}
	if (!ev.have_all && ssmf_labels_active(labels) && !o.quiet)
		ssmf_warn("labels matched no attack and benign flows to compare");
	code = worse(code, write_outputs(&o, r, n, &hosts, labels, ev.have_all ? &ev : NULL));
	if (o.report)
		code = worse(code, write_report(&o, r, n, &hosts, labels, ev.have_all ? &ev : NULL,
		                                ssmf_scorer_packets(sc)));
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
		for (int k = 1; k < SSMF_SKIP_COUNT; k++)
			skipped += in->skipped[k];
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
	ssmf_report_inputs_free(&inputs);
	ssmf_opts_free(score_opts_table, &o);
	return code;
}
