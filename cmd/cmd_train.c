/* cmd_train.c - `ssmflow train`: options, progress and JSON log around train_run(). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/options.h"
#include "cmd/progress.h"
#include "cuda/devices.h"
#include "ssmf_version.h"
#include "train/hparams.h"
#include "train/dist.h"
#include "train/meta.h"
#include "train/levels.h"
#include "train/train.h"

static const char synopsis[] =
    "usage: ssmflow train [options] -o MODEL DATASET...\n"
    "\n"
    "Trains the flow model on one or more datasets (read as one) and writes MODEL: the\n"
    "parameters of the best validation epoch and their provenance. The training state\n"
    "goes to a checkpoint (MODEL.ckpt) every N steps and at the end; --resume continues\n"
    "it with the same losses as an uninterrupted run.\n"
    "\n";
static const char epilogue[] =
    "\n"
    "Exit codes: 0 ok, 1 usage, 2 a dataset or checkpoint could not be read or has no\n"
    "data, 4 output error, 5 internal error or training diverged (NaN/Inf; the last good\n"
    "checkpoint is kept), 6 CUDA unavailable (built without CUDA, or no device),\n"
    "130/143 interrupted (a checkpoint was written).\n";

struct train_cli {
	struct train_opts o;
	const char *log_path, *base;
	int host_mode, device, quiet;
	struct ssmf_opt_list val;
};

static const struct ssmf_opt_choice devices[] = {SSMF_DEVICES(SSMF_DEVICE_CHOICE){NULL, 0, 0}};
static const struct ssmf_opt_choice host_modes[] = {
    {"yes", TRAIN_HOST_YES, 0},
    {"no", TRAIN_HOST_NO, 0},
    {"only", TRAIN_HOST_ONLY, 0},
    {NULL, 0, 0},
};

#define HP_TYPE_I32  SSMF_OPT_I32
#define HP_TYPE_I64  SSMF_OPT_I64
#define HP_TYPE_U64  SSMF_OPT_U64
#define HP_TYPE_F64  SSMF_OPT_F64
#define HP_TYPE_FLAG SSMF_OPT_FLAG
#define HP_ARG_I32   "N"
#define HP_ARG_I64   "N"
#define HP_ARG_U64   "N"
#define HP_ARG_F64   "X"
#define HP_ARG_FLAG  NULL
#define HP_ROW(key, option, short_name_, type_, member, lo_, hi_, open_lo_, open_hi_, help_,       \
               note_)                                                                              \
	{.name = option,                                                                           \
	 .short_name = short_name_,                                                                \
	 .arg = HP_ARG_##type_,                                                                    \
	 .type = HP_TYPE_##type_,                                                                  \
	 .offset = offsetof(struct train_cli, o.hp.member),                                        \
	 .lo = lo_,                                                                                \
	 .hi = hi_,                                                                                \
	 .open_lo = open_lo_,                                                                      \
	 .open_hi = open_hi_,                                                                      \
	 .help = help_,                                                                            \
	 .note = note_},

#define O(member) offsetof(struct train_cli, member)
static const struct ssmf_opt train_opts_table[] = {
    {.name = "output",
     .short_name = 'o',
     .arg = "FILE",
     .type = SSMF_OPT_STRING,
     .offset = O(o.output),
     .help = "model to write"},
    {.name = "checkpoint",
     .arg = "FILE",
     .type = SSMF_OPT_STRING,
     .offset = O(o.checkpoint),
     .help = "training checkpoint",
     .def = "MODEL.ckpt"},
    {.name = "resume",
     .arg = "CKPT",
     .type = SSMF_OPT_STRING,
     .offset = O(o.resume),
     .help = "continue from a checkpoint (its hyper-parameters are used)"},
    {.name = "val",
     .arg = "DATASET",
     .type = SSMF_OPT_LIST,
     .offset = O(val),
     .help = "validate on this dataset instead of the latest flows (repeatable)"},
    TRAIN_HPARAMS(HP_ROW){.name = "threads",
                          .arg = "N",
                          .type = SSMF_OPT_I32,
                          .offset = O(o.threads),
                          .lo = 0,
                          .hi = INFINITY,
                          .help = "CPU threads; results depend only on the seed and the data",
                          .note = "0: all cores"},
    {.name = "device",
     .arg = "cpu|cuda",
     .type = SSMF_OPT_CHOICE,
     .offset = O(device),
     .choices = devices,
     .help = "where to train; cuda: the first visible GPU, the losses of cpu up to float "
             "rounding"},
    {.name = "host-level",
     .arg = "yes|no|only",
     .type = SSMF_OPT_CHOICE,
     .offset = O(host_mode),
     .choices = host_modes,
     .help = "also train the host level, on each endpoint's sequence of flow events; only: "
             "train it alone and keep the packet level of --base MODEL"},
    {.name = "base",
     .arg = "MODEL",
     .type = SSMF_OPT_STRING,
     .offset = O(base),
     .help = "with --host-level only: the model whose packet level is kept"},
    {.name = "log-json",
     .arg = "FILE",
     .type = SSMF_OPT_STRING,
     .offset = O(log_path),
     .help = "one JSON object per line per step and per epoch"},
    {.name = "quiet",
     .short_name = 'q',
     .type = SSMF_OPT_FLAG,
     .offset = O(quiet),
     .help = "no progress and no summary"},
    {.name = "help", .short_name = 'h', .type = SSMF_OPT_FLAG, .help = "this help"},
    SSMF_OPT_END,
};
#undef O

static const struct ssmf_command_opts train_cmd = {"train", synopsis, epilogue, train_opts_table};

/* What the observer callbacks share. */
struct progress {
	FILE *log;
	int quiet;
	struct ssmf_progress line; /* on a terminal */
	double t0;
	long first_step, packets;
	int log_failed;
	int host; /* the host level is training: its log lines say "level": "host" */
	const struct train_dist *dist;
	double comm_s, comm_mib; /* the packet level's share of dist's totals */
};

static void log_line(struct progress *p, cJSON *o)
{
	if (p->host)
		cJSON_AddStringToObject(o, "level", "host");
	char *s = cJSON_PrintUnformatted(o);
	if (s && p->log && fprintf(p->log, "%s\n", s) < 0)
		p->log_failed = 1;
	/* flushed per line: a watcher (or a test) reads the log while training runs */
	if (p->log && fflush(p->log) != 0)
		p->log_failed = 1;
	cJSON_free(s);
	cJSON_Delete(o);
}

static void on_start(void *user, const struct train_start_info *s)
{
	struct progress *p = user;
	p->t0 = ssmf_now();
	p->first_step = s->first_step;
	ssmf_progress_start(&p->line, p->quiet, SSMF_PROGRESS_STEPS, (uint64_t)s->total_steps,
	                    (uint64_t)s->first_step);
	if (!p->quiet && p->host)
		fprintf(stderr,
		        "train: host level: %ld host sequences (%ld events), validation %ld (%ld "
		        "events); %ld batches per epoch, %ld steps\n",
		        s->train_flows, s->train_packets, s->val_flows, s->val_packets,
		        s->batches_per_epoch, s->total_steps);
	else if (!p->quiet)
		fprintf(stderr,
		        "train: %ld flows (%ld packets), validation %ld flows (%ld packets); "
		        "%zu parameters; %ld batches per epoch, %ld steps%s\n",
		        s->train_flows, s->train_packets, s->val_flows, s->val_packets, s->n_params,
		        s->batches_per_epoch, s->total_steps, s->resumed ? " (resumed)" : "");
	if (p->log) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", "start");
		cJSON_AddNumberToObject(o, "train_flows", (double)s->train_flows);
		cJSON_AddNumberToObject(o, "train_packets", (double)s->train_packets);
		cJSON_AddNumberToObject(o, "val_flows", (double)s->val_flows);
		cJSON_AddNumberToObject(o, "val_packets", (double)s->val_packets);
		cJSON_AddNumberToObject(o, "batches_per_epoch", (double)s->batches_per_epoch);
		cJSON_AddNumberToObject(o, "total_steps", (double)s->total_steps);
		cJSON_AddNumberToObject(o, "first_step", (double)s->first_step);
		cJSON_AddNumberToObject(o, "n_params", (double)s->n_params);
		cJSON_AddBoolToObject(o, "resumed", s->resumed);
		log_line(p, o);
	}
}

static void on_step(void *user, const struct train_step_info *s)
{
	struct progress *p = user;
	p->packets += s->packets;
	double now = ssmf_now(), el = now - p->t0;
	double pps = el > 0 ? (double)p->packets / el : 0;
	if (p->log) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", "step");
		cJSON_AddNumberToObject(o, "step", (double)s->step);
		cJSON_AddNumberToObject(o, "epoch", s->epoch);
		/* 17 digits: the resume test compares losses bit for bit */
		cJSON_AddItemToObject(o, "loss", train_json_number(s->loss));
		cJSON_AddItemToObject(o, "loss_next", train_json_number(s->loss_next));
		cJSON_AddItemToObject(o, "loss_sup", train_json_number(s->loss_sup));
		cJSON_AddItemToObject(o, "lr", train_json_number(s->lr));
		cJSON_AddItemToObject(o, "grad_norm", train_json_number(s->grad_norm));
		cJSON_AddNumberToObject(o, "flows", (double)s->flows);
		cJSON_AddNumberToObject(o, "packets", (double)s->packets);
		cJSON_AddNumberToObject(o, "packets_per_s", round(pps));
		log_line(p, o);
	}
	char extra[96];
	snprintf(extra, sizeof extra, "epoch %d loss %.4f %.0f pkt/s", s->epoch, s->loss, pps);
	ssmf_progress_update(&p->line, (uint64_t)s->step, extra);
}

static void on_epoch(void *user, const struct train_epoch_info *e)
{
	struct progress *p = user;
	if (!p->quiet) {
		ssmf_progress_clear(&p->line);
		if (isfinite(e->val_loss))
			fprintf(stderr,
			        "epoch %d (step %ld): train loss %.4f, validation loss %.4f%s\n",
			        e->epoch, e->step, e->train_loss, e->val_loss,
			        e->improved ? " (best)" : "");
		else
			fprintf(stderr, "epoch %d (step %ld): train loss %.4f\n", e->epoch, e->step,
			        e->train_loss);
	}
	if (p->log) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", "epoch");
		cJSON_AddNumberToObject(o, "epoch", e->epoch);
		cJSON_AddNumberToObject(o, "step", (double)e->step);
		cJSON_AddItemToObject(o, "train_loss", train_json_number(e->train_loss));
		cJSON_AddItemToObject(o, "val_loss", train_json_number(e->val_loss));
		cJSON_AddItemToObject(o, "val_loss_next", train_json_number(e->val_next));
		cJSON_AddItemToObject(o, "val_loss_sup", train_json_number(e->val_sup));
		cJSON_AddItemToObject(o, "best_val_loss", train_json_number(e->best_val));
		cJSON_AddNumberToObject(o, "best_epoch", e->best_epoch);
		cJSON_AddBoolToObject(o, "improved", e->improved);
		cJSON_AddBoolToObject(o, "stop", e->stop);
		log_line(p, o);
	}
}

static void on_level(void *user, int host_level)
{
	struct progress *p = user;
	p->host = host_level;
	if (host_level) { /* the packet level is done */
		p->comm_s = p->dist->comm_s;
		p->comm_mib = p->dist->comm_mib;
	}
}

static int should_stop(void *user)
{
	(void)user;
	return ssmf_stop_signal() != 0;
}

/* ISO 8601 UTC; SOURCE_DATE_EPOCH pins it so a rebuilt model is the same file. */
static void creation_time(char *buf, size_t n)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;
	time_t t = sde && ssmf_parse_u64(sde, &v) == 0 ? (time_t)v : time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++)
		p += sprintf(p, "%s%s", i ? " " : "", argv[i]);
	*p = 0;
	return s;
}

static int exit_code(int rc)
{
	switch (rc) {
	case TRAIN_E_USAGE:
		return SSMF_EXIT_USAGE;
	case TRAIN_E_INPUT:
		return SSMF_EXIT_INPUT;
	case TRAIN_E_OUTPUT:
		return SSMF_EXIT_OUTPUT;
	case TRAIN_E_STOPPED:
		return 128 + ssmf_stop_signal();
	case TRAIN_E_NO_CUDA:
		return SSMF_EXIT_NO_CUDA;
	default:
		return SSMF_EXIT_INTERNAL;
	}
}

int cmd_train(int argc, char **argv)
{
	struct train_cli cli = {.host_mode = TRAIN_HOST_YES};
	train_hparams_default(&cli.o.hp);
	unsigned char given[sizeof train_opts_table / sizeof *train_opts_table] = {0};
	int first = 0, rc = SSMF_EXIT_OK;
	int prc = ssmf_opts_parse(&train_cmd, &cli, argc, argv, &first, given);
	if (prc) {
		ssmf_opts_free(train_opts_table, &cli);
		return prc < 0 ? SSMF_EXIT_OK : prc;
	}
	struct train_opts o = cli.o;
	const char *log_path = cli.log_path, *base = cli.base;
	enum train_host_mode host_mode = (enum train_host_mode)cli.host_mode;
	int quiet = cli.quiet, hp_given = 0;
	/* the hyper-parameters' rows are those whose field lies in o.hp (--help, at offset
	 * 0 too, is never marked given) */
	size_t hp_lo = offsetof(struct train_cli, o.hp), hp_hi = hp_lo + sizeof cli.o.hp;
	for (size_t i = 0; train_opts_table[i].name; i++)
		hp_given += given[i] && train_opts_table[i].offset >= hp_lo &&
		            train_opts_table[i].offset < hp_hi;
	const char **val = cli.val.v; /* the one list the table allocates: freed on each way out */
	o.device = ssmf_device_name((enum ssmf_device)cli.device);
	o.train_paths = (const char *const *)(argv + first);
	o.n_train = argc - first;
	o.val_paths = val;
	o.n_val = (int)cli.val.n;
	if (!o.output) {
		free(val);
		return ssmf_usage_error("train", "no output model: give -o MODEL");
	}
	if (o.n_train == 0) {
		free(val);
		return ssmf_usage_error("train", "no dataset to train on");
	}
	if ((host_mode == TRAIN_HOST_ONLY) != (base != NULL)) {
		free(val);
		return ssmf_usage_error("train", "--host-level only and --base MODEL go together");
	}
	char err[1024] = "";
	/* under mpirun or srun: one of the job's processes; rank 0 alone prints and logs */
	struct train_dist dist;
	int drc = train_dist_init(&dist, &argc, &argv, err, sizeof err);
	if (drc < 0) {
		free(val);
		if (err[0]) /* empty on the processes that leave the message to rank 0 */
			ssmf_error("%s", err);
		train_dist_finish(&dist, 1);
		return exit_code(drc);
	}
	o.dist = &dist;
	if (dist.rank != 0) {
		quiet = 1;
		log_path = NULL;
	}
	if (strcmp(o.device, "cuda") == 0 && ssmf_cuda_available(err, sizeof err) < 0) {
		free(val);
		ssmf_error("--device cuda: %s", err);
		train_dist_finish(&dist, 0);
		return SSMF_EXIT_NO_CUDA;
	}
	if (o.resume && hp_given && !quiet)
		ssmf_warn("--resume: training continues with the checkpoint's hyper-parameters; "
		          "those given on the command line are ignored");
	char *ckpt = NULL;
	if (!o.checkpoint) {
		ckpt = malloc(strlen(o.output) + 6);
		if (!ckpt) {
			free(val);
			train_dist_finish(&dist, 1);
			return SSMF_EXIT_INTERNAL;
		}
		sprintf(ckpt, "%s.ckpt", o.output);
		o.checkpoint = ckpt;
	}
	struct progress p = {.quiet = quiet, .dist = &dist};
	if (log_path) {
		/* a resumed run appends: the log then holds the whole history */
		p.log = fopen(log_path, o.resume ? "a" : "w");
		if (!p.log) {
			ssmf_error("%s: cannot open for writing", log_path);
			free(ckpt);
			free(val);
			train_dist_finish(&dist, 1); /* the other processes would wait for rank 0 */
			return SSMF_EXIT_OUTPUT;
		}
	}
	char created[32], software[64];
	creation_time(created, sizeof created);
	snprintf(software, sizeof software, "ssmflow %s", SSMF_VERSION_STRING);
	char *cmdline = join_args(argc, argv);
	o.created = created;
	o.software = software;
	o.command_line = cmdline;
	struct train_observer obs = {&p, on_start, on_step, on_epoch, NULL, should_stop, on_level};
	o.obs = &obs;
	ssmf_signals_install();

	struct train_result res, hres;
	int trc = train_levels_run(&o, host_mode, base, &res, &hres, err, sizeof err);
	if (host_mode == TRAIN_HOST_NO) { /* on_level was not called */
		p.comm_s = dist.comm_s;
		p.comm_mib = dist.comm_mib;
	}
	ssmf_progress_clear(&p.line);
	/* a distributed run's processes share the outcome: rank 0 says it, another process
	 * only an error of its own (train_dist_agree) or a failure of MPI */
	int say = dist.rank == 0 || dist.speak || trc == TRAIN_E_DIST;
	if (trc < 0) {
		if (trc == TRAIN_E_USAGE && strncmp(err, "--", 2) == 0)
			rc = say ? ssmf_usage_error("train", "%s", err) : SSMF_EXIT_USAGE;
		else {
			if (say)
				ssmf_error("%s", err);
			rc = exit_code(trc);
		}
	} else if (!quiet) {
		if (host_mode != TRAIN_HOST_NO)
			fprintf(
			    stderr,
			    "train: host level: %s after %ld steps (%d epochs); best validation "
			    "loss %.4f at epoch %d\n",
			    hres.stop_reason, hres.steps, hres.epochs, hres.best_val,
			    hres.best_epoch);
		if (host_mode != TRAIN_HOST_NO && hres.evidence_flows)
			fprintf(stderr, "train: evidence baseline from %llu validation flows\n",
			        hres.evidence_flows);
		else if (host_mode != TRAIN_HOST_NO)
			fprintf(
			    stderr,
			    "train: no evidence baseline: fewer than %u validation flows with a "
			    "prediction; scores carry no evidence term\n",
			    SSMF_EVIDENCE_MIN_FLOWS);
		if (host_mode == TRAIN_HOST_ONLY)
			fprintf(stderr, "train: packet level from %s; wrote %s\n", base, o.output);
		else if (isfinite(res.best_val))
			fprintf(
			    stderr,
			    "train: %s after %ld steps (%d epochs); best validation loss %.4f at "
			    "epoch %d; wrote %s\n",
			    res.stop_reason, res.steps, res.epochs, res.best_val, res.best_epoch,
			    o.output);
		else
			fprintf(stderr, "train: %s after %ld steps (%d epochs); wrote %s\n",
			        res.stop_reason, res.steps, res.epochs, o.output);
	}
	if (p.log) {
		if (trc == 0) {
			/* the packet level's, last (the host level's own "done" comes first) */
			for (int level = 1; level >= 0; level--) {
				const struct train_result *x = level ? &hres : &res;
				if ((level && host_mode == TRAIN_HOST_NO) ||
				    (!level && host_mode == TRAIN_HOST_ONLY))
					continue;
				cJSON *e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "event", "done");
				cJSON_AddStringToObject(e, "stop_reason", x->stop_reason);
				cJSON_AddNumberToObject(e, "steps", (double)x->steps);
				cJSON_AddNumberToObject(e, "epochs", x->epochs);
				cJSON_AddNumberToObject(e, "best_epoch", x->best_epoch);
				cJSON_AddItemToObject(e, "best_val_loss",
				                      train_json_number(x->best_val));
				/* rank 0's seconds in gradient reductions (waiting for the
				 * others included) and MiB sent: bench/train */
				if (dist.size > 1) {
					double cs = level ? dist.comm_s - p.comm_s : p.comm_s;
					double cm = level ? dist.comm_mib - p.comm_mib : p.comm_mib;
					cJSON_AddNumberToObject(e, "processes", dist.size);
					cJSON_AddNumberToObject(e, "comm_s", cs);
					cJSON_AddNumberToObject(e, "comm_mib", cm);
				}
				p.host = level;
				log_line(&p, e);
			}
			p.host = 0;
		}
		if (fclose(p.log) != 0 || p.log_failed) {
			ssmf_error("%s: write error", log_path);
			if (rc == SSMF_EXIT_OK)
				rc = SSMF_EXIT_OUTPUT;
		}
	}
	free(cmdline);
	free(ckpt);
	free(val);
	train_dist_finish(&dist, trc == TRAIN_E_DIST);
	return rc;
}
