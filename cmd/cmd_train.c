/* cmd_train.c - `ssmflow train`: options, progress and JSON log around train_run(). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/progress.h"
#include "cuda/ssm_cuda.h"
#include "ssmf_version.h"
#include "train/dist.h"
#include "train/meta.h"
#include "train/levels.h"
#include "train/train.h"

static const char usage[] =
    "usage: ssmflow train [options] -o MODEL DATASET...\n"
    "\n"
    "Trains the flow model on one or more datasets (read as one) and writes MODEL: the\n"
    "parameters of the best validation epoch and their provenance. The training state\n"
    "goes to a checkpoint (MODEL.ckpt) every N steps and at the end; --resume continues\n"
    "it with the same losses as an uninterrupted run.\n"
    "\n"
    "  -o, --output FILE         model to write\n"
    "      --checkpoint FILE     training checkpoint (MODEL.ckpt)\n"
    "      --checkpoint-every N  steps between checkpoints (200; 0: epoch ends only)\n"
    "      --resume CKPT         continue from a checkpoint (its hyper-parameters are used)\n"
    "      --val DATASET         validate on this dataset instead of the latest flows\n"
    "                            (repeatable)\n"
    "      --val-fraction F      latest flows by start time used for validation (0.1)\n"
    "      --epochs N            at most N passes over the training flows (20)\n"
    "      --max-steps N         stop after N optimizer steps (0: no limit)\n"
    "      --patience N          stop after N epochs without validation gain (3; 0 off)\n"
    "      --min-delta X         smallest validation loss drop that counts as gain (1e-4)\n"
    "  -b, --batch-size N        flows per batch (32)\n"
    "      --max-len N           packets per flow the model sees (256)\n"
    "      --lr X                peak learning rate (3e-3)\n"
    "      --min-lr-ratio X      cosine floor as a fraction of --lr (0.1)\n"
    "      --warmup N            linear warmup steps (100)\n"
    "      --weight-decay X      AdamW weight decay on matrices (0.1)\n"
    "      --beta1 X --beta2 X   AdamW moment decay (0.9, 0.95)\n"
    "      --eps X               AdamW epsilon (1e-8)\n"
    "      --grad-clip X         global gradient norm limit (1.0; 0 off)\n"
    "      --supervised          also train the supervised head on labelled flows\n"
    "      --sup-weight X        weight of the supervised loss (1.0)\n"
    "      --d-model N --n-layer N --d-state N --expand N --headdim N\n"
    "                            model size (64, 2, 16, 2, 16)\n"
    "      --seed N              data order and initialisation (1)\n"
    "      --threads N           CPU threads (0: all cores); results depend only on the\n"
    "                            seed and the data\n"
    "      --device cpu|cuda     where to train (cpu); cuda: the first visible GPU, the\n"
    "                            losses of cpu up to float rounding\n"
    "      --host-level yes|no|only\n"
    "                            also train the host level, on each endpoint's sequence\n"
    "                            of flow events (yes); only: train it alone and keep the\n"
    "                            packet level of --base MODEL\n"
    "      --base MODEL          with --host-level only: the model whose packet level is kept\n"
    "      --log-json FILE       one JSON object per line per step and per epoch\n"
    "  -q, --quiet               no progress and no summary\n"
    "  -h, --help                this help\n"
    "\n"
    "Exit codes: 0 ok, 1 usage, 2 a dataset or checkpoint could not be read or has no\n"
    "data, 4 output error, 5 internal error or training diverged (NaN/Inf; the last good\n"
    "checkpoint is kept), 6 CUDA unavailable (built without CUDA, or no device),\n"
    "130/143 interrupted (a checkpoint was written).\n";

enum {
	O_CHECKPOINT = 256,
	O_CKPT_EVERY,
	O_RESUME,
	O_VAL,
	O_VAL_FRACTION,
	O_EPOCHS,
	O_MAX_STEPS,
	O_PATIENCE,
	O_MIN_DELTA,
	O_MAX_LEN,
	O_LR,
	O_MIN_LR_RATIO,
	O_WARMUP,
	O_WEIGHT_DECAY,
	O_BETA1,
	O_BETA2,
	O_EPS,
	O_GRAD_CLIP,
	O_SUPERVISED,
	O_SUP_WEIGHT,
	O_D_MODEL,
	O_N_LAYER,
	O_D_STATE,
	O_EXPAND,
	O_HEADDIM,
	O_SEED,
	O_THREADS,
	O_DEVICE,
	O_LOG_JSON,
	O_HOST_LEVEL,
	O_BASE,
};

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"checkpoint", required_argument, NULL, O_CHECKPOINT},
    {"checkpoint-every", required_argument, NULL, O_CKPT_EVERY},
    {"resume", required_argument, NULL, O_RESUME},
    {"val", required_argument, NULL, O_VAL},
    {"val-fraction", required_argument, NULL, O_VAL_FRACTION},
    {"epochs", required_argument, NULL, O_EPOCHS},
    {"max-steps", required_argument, NULL, O_MAX_STEPS},
    {"patience", required_argument, NULL, O_PATIENCE},
    {"min-delta", required_argument, NULL, O_MIN_DELTA},
    {"batch-size", required_argument, NULL, 'b'},
    {"max-len", required_argument, NULL, O_MAX_LEN},
    {"lr", required_argument, NULL, O_LR},
    {"min-lr-ratio", required_argument, NULL, O_MIN_LR_RATIO},
    {"warmup", required_argument, NULL, O_WARMUP},
    {"weight-decay", required_argument, NULL, O_WEIGHT_DECAY},
    {"beta1", required_argument, NULL, O_BETA1},
    {"beta2", required_argument, NULL, O_BETA2},
    {"eps", required_argument, NULL, O_EPS},
    {"grad-clip", required_argument, NULL, O_GRAD_CLIP},
    {"supervised", no_argument, NULL, O_SUPERVISED},
    {"sup-weight", required_argument, NULL, O_SUP_WEIGHT},
    {"d-model", required_argument, NULL, O_D_MODEL},
    {"n-layer", required_argument, NULL, O_N_LAYER},
    {"d-state", required_argument, NULL, O_D_STATE},
    {"expand", required_argument, NULL, O_EXPAND},
    {"headdim", required_argument, NULL, O_HEADDIM},
    {"seed", required_argument, NULL, O_SEED},
    {"threads", required_argument, NULL, O_THREADS},
    {"device", required_argument, NULL, O_DEVICE},
    {"log-json", required_argument, NULL, O_LOG_JSON},
    {"host-level", required_argument, NULL, O_HOST_LEVEL},
    {"base", required_argument, NULL, O_BASE},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

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

static int parse_i32(const char *s, int32_t lo, int32_t *out)
{
	uint64_t v;
	if (ssmf_parse_u64(s, &v) < 0 || v > INT32_MAX || (int64_t)v < lo)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int parse_f64(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || v < 0)
		return -1;
	*out = v;
	return 0;
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
	struct train_opts o = {0};
	train_hparams_default(&o.hp);
	const char *log_path = NULL, *base = NULL;
	enum train_host_mode host_mode = TRAIN_HOST_YES;
	const char **val = calloc((size_t)argc, sizeof *val);
	int quiet = 0, n_val = 0, hp_given = 0;
	uint64_t u;
	int32_t i32 = 0;
	int c, rc = SSMF_EXIT_OK;
	o.device = "cpu";
	if (!val)
		return SSMF_EXIT_INTERNAL;
	optind = 1;
	int li = -1;
	while ((c = getopt_long(argc, argv, "o:b:qh", long_opts, &li)) != -1) {
		int bad = 0;
		hp_given += c == 'b' || (c >= O_VAL_FRACTION && c <= O_SEED && c != O_VAL);
		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case O_CHECKPOINT:
			o.checkpoint = optarg;
			break;
		case O_CKPT_EVERY:
			bad = parse_i32(optarg, 0, &o.hp.checkpoint_every);
			break;
		case O_RESUME:
			o.resume = optarg;
			break;
		case O_VAL:
			val[n_val++] = optarg;
			break;
		case O_VAL_FRACTION:
			bad = parse_f64(optarg, &o.hp.val_fraction);
			break;
		case O_EPOCHS:
			bad = parse_i32(optarg, 1, &o.hp.epochs);
			break;
		case O_MAX_STEPS:
			bad = ssmf_parse_u64(optarg, &u) < 0 || u > INT64_MAX;
			o.hp.max_steps = (int64_t)u;
			break;
		case O_PATIENCE:
			bad = parse_i32(optarg, 0, &o.hp.patience);
			break;
		case O_MIN_DELTA:
			bad = parse_f64(optarg, &o.hp.min_delta);
			break;
		case 'b':
			bad = parse_i32(optarg, 1, &o.hp.batch_size);
			break;
		case O_MAX_LEN:
			bad = parse_i32(optarg, 2, &o.hp.max_len);
			break;
		case O_LR:
			bad = parse_f64(optarg, &o.hp.lr);
			break;
		case O_MIN_LR_RATIO:
			bad = parse_f64(optarg, &o.hp.min_lr_ratio);
			break;
		case O_WARMUP:
			bad = parse_i32(optarg, 0, &o.hp.warmup);
			break;
		case O_WEIGHT_DECAY:
			bad = parse_f64(optarg, &o.hp.weight_decay);
			break;
		case O_BETA1:
			bad = parse_f64(optarg, &o.hp.beta1);
			break;
		case O_BETA2:
			bad = parse_f64(optarg, &o.hp.beta2);
			break;
		case O_EPS:
			bad = parse_f64(optarg, &o.hp.eps);
			break;
		case O_GRAD_CLIP:
			bad = parse_f64(optarg, &o.hp.grad_clip);
			break;
		case O_SUPERVISED:
			o.hp.supervised = 1;
			break;
		case O_SUP_WEIGHT:
			bad = parse_f64(optarg, &o.hp.sup_weight);
			break;
		case O_D_MODEL:
			bad = parse_i32(optarg, 1, &o.hp.model.d_model);
			break;
		case O_N_LAYER:
			bad = parse_i32(optarg, 1, &o.hp.model.n_layer);
			break;
		case O_D_STATE:
			bad = parse_i32(optarg, 1, &o.hp.model.d_state);
			break;
		case O_EXPAND:
			bad = parse_i32(optarg, 1, &o.hp.model.expand);
			break;
		case O_HEADDIM:
			bad = parse_i32(optarg, 1, &o.hp.model.headdim);
			break;
		case O_SEED:
			bad = ssmf_parse_u64(optarg, &o.hp.seed);
			break;
		case O_THREADS:
			bad = parse_i32(optarg, 0, &i32);
			o.threads = i32;
			break;
		case O_DEVICE:
			o.device = optarg;
			break;
		case O_HOST_LEVEL:
			if (strcmp(optarg, "yes") == 0)
				host_mode = TRAIN_HOST_YES;
			else if (strcmp(optarg, "no") == 0)
				host_mode = TRAIN_HOST_NO;
			else if (strcmp(optarg, "only") == 0)
				host_mode = TRAIN_HOST_ONLY;
			else
				bad = 1;
			break;
		case O_BASE:
			base = optarg;
			break;
		case O_LOG_JSON:
			log_path = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			free(val);
			return SSMF_EXIT_OK;
		default:
			free(val);
			return ssmf_usage_error("train", "unknown option");
		}
		if (bad) {
			free(val);
			if (li >= 0)
				return ssmf_usage_error("train", "--%s: bad value '%s'",
				                        long_opts[li].name, optarg);
			return ssmf_usage_error("train", "-%c: bad value '%s'", c, optarg);
		}
		li = -1;
	}
	o.train_paths = (const char *const *)(argv + optind);
	o.n_train = argc - optind;
	o.val_paths = val;
	o.n_val = n_val;
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
	/* cuda-emulated (not in --help): the CUDA kernels' code run on the CPU, for tests */
	if (strcmp(o.device, "cpu") != 0 && strcmp(o.device, "cuda") != 0 &&
	    strcmp(o.device, "cuda-emulated") != 0) {
		free(val);
		return ssmf_usage_error("train", "--device %s: unknown device (cpu or cuda)",
		                        o.device);
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
