/* loop.c - the training loop: epochs of length-bucketed batches, AdamW with warmup +
 * cosine, clipping, validation and early stopping, checkpoints that resume bit for bit.
 *
 * Resume identity: everything a step depends on is either a function of (seed, epoch)
 * (the batch order) or saved in the checkpoint (parameters, moments, step, position in the
 * epoch, the epoch's running loss, early-stopping state). Checkpoints are only written
 * between steps, after the epoch-end validation when a step closes an epoch.
 *
 * Distributed (dist.h): every process runs this loop over the same batches and the same
 * state; the engine spreads each batch's gradient work (ssm/engine.h, ssmf_reducer) and
 * validation spreads the batches, with results bit-identical to one process. Rank 0 alone
 * writes the checkpoint, the model and the progress; the processes agree on the outcome of
 * every step one of them could fail alone (a write, an interrupt), so they end together.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/devices.h"
#include "train/batcher.h"
#include "train/dist.h"
#include "train/flowset.h"
#include "train/hostset.h"
#include "train/hparams.h"
#include "train/meta.h"
#include "train/rng.h"
#include "train/schedule.h"
#include "train/split.h"
#include "train/state.h"
#include "train/train.h"

struct run {
	const struct train_opts *o;
	const struct train_observer *obs; /* o->obs on rank 0, NULL elsewhere */
	struct train_dist *dist;          /* o->dist, or solo */
	struct train_dist solo;
	struct train_hparams hp;
	struct train_flowset train_fs, val_fs;
	const struct train_flowset *val_src; /* &train_fs (time split) or &val_fs (--val) */
	struct train_split split;
	struct ssmf_model *m;
	struct ssmf_adamw opt;
	struct ssmf_engine eng;
	struct ssmf_reducer reducer; /* the job, as the engine sees it (train/dist.h) */
	struct train_batcher tb, vb;
	double *val_parts; /* (vb.n_batches, 4) each validation batch's sums, for the processes */
	struct train_tstate st;
	ssmf_real *best;
	cJSON *history;
	char *created, *command_line; /* the first run's, kept across resumes */
	long total_steps;
	long last_ckpt_step; /* -1: none written by this process or resumed from */
	const char *stop_reason;
	char stop_buf[32]; /* the stop reason of a finished run, kept across a resume */
	double last_train_loss;
	char *err;
	size_t errlen;
};

#define OBS(r, fn, ...)                                                                            \
	do {                                                                                       \
		if ((r)->obs && (r)->obs->fn)                                                      \
			(r)->obs->fn((r)->obs->user, __VA_ARGS__);                                 \
	} while (0)

static char *meta_text(struct run *r)
{
	struct train_meta_in in = {
	    .hp = &r->hp,
	    .software = r->o->software,
	    .created = r->created,
	    .command_line = r->command_line,
	    .device = r->o->device,
	    .threads = ssmf_get_threads(),
	    .processes = r->dist->size,
	    .train_fs = &r->train_fs,
	    .val_fs = r->val_src,
	    .split = &r->split,
	    .n_params = ssmf_model_num_params(r->m),
	    .total_steps = r->total_steps,
	    .st = &r->st,
	    .history = r->history,
	    .stop_reason = r->stop_reason,
	};
	return train_meta_build(&in);
}

static int diverged(struct run *r, long step, const char *what, double v);

/* Makes the host copies of the parameters and moments current (a device engine keeps
 * them on the device) and checks the parameters: a device engine's AdamW does not
 * look at them (ssm/engine.h), so a non-finite one is caught here before it is saved. */
static int sync_host(struct run *r)
{
	if (r->eng.sync_to_host(r->eng.ctx, r->err, r->errlen) < 0)
		return TRAIN_E_INTERNAL;
	size_t n = ssmf_model_num_params(r->m);
	const ssmf_real *p = ssmf_model_params(r->m);
	long bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += !isfinite(p[i]);
	if (bad > 0)
		return diverged(r, (long)r->st.step, "the number of non-finite parameters",
		                (double)bad);
	return 0;
}

static int write_checkpoint(struct run *r)
{
	int rc = sync_host(r);
	if (rc < 0)
		return rc;
	if (r->dist->rank == 0) {
		char *meta = meta_text(r);
		if (!meta) {
			snprintf(r->err, r->errlen, "out of memory");
			rc = TRAIN_E_INTERNAL;
		} else if (train_state_save(r->o->checkpoint, r->m, &r->st, &r->opt, r->best, meta,
		                            r->err, r->errlen) < 0)
			rc = TRAIN_E_OUTPUT;
		cJSON_free(meta);
	}
	if ((rc = train_dist_agree(r->dist, rc, r->err, r->errlen)) < 0)
		return rc;
	r->last_ckpt_step = r->st.step;
	OBS(r, on_checkpoint, r->o->checkpoint, (long)r->st.step);
	return 0;
}

/* The model to ship: the best validation epoch's parameters (the last ones when there is
 * no validation), with the metadata and nothing of the optimizer. */
static int write_model_here(struct run *r)
{
	size_t n = ssmf_model_num_params(r->m);
	ssmf_real *p = ssmf_model_params(r->m);
	ssmf_real *cur = malloc(n * sizeof *cur);
	char *meta = meta_text(r);
	if (!cur || !meta) {
		free(cur);
		cJSON_free(meta);
		snprintf(r->err, r->errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	memcpy(cur, p, n * sizeof *cur);
	if (r->st.best_epoch > 0)
		memcpy(p, r->best, n * sizeof *p);
	int rc = train_model_save(r->o->output, r->m, meta, r->err, r->errlen);
	memcpy(p, cur, n * sizeof *p);
	free(cur);
	cJSON_free(meta);
	return rc < 0 ? TRAIN_E_OUTPUT : 0;
}

static int write_model(struct run *r)
{
	int rc = r->dist->rank == 0 ? write_model_here(r) : 0;
	return train_dist_agree(r->dist, rc, r->err, r->errlen);
}

static int diverged(struct run *r, long step, const char *what, double v)
{
	char last[300];
	if (r->last_ckpt_step >= 0)
		snprintf(last, sizeof last, "the last good checkpoint is %s (step %ld)",
		         r->o->checkpoint, r->last_ckpt_step);
	else
		snprintf(last, sizeof last, "no checkpoint was written yet");
	snprintf(r->err, r->errlen,
	         "training diverged at step %ld: %s is %g (try a lower --lr or --grad-clip); %s",
	         step, what, v, last);
	return TRAIN_E_DIVERGED;
}

static long count_labelled(const struct train_flowset *fs, const uint32_t *idx, size_t n)
{
	long k = 0;
	for (size_t i = 0; i < n; i++)
		k += fs->flows[idx[i]].label >= 0;
	return k;
}

static long count_packets(const struct train_flowset *fs, const uint32_t *idx, size_t n)
{
	long k = 0;
	for (size_t i = 0; i < n; i++)
		k += fs->flows[idx[i]].len;
	return k;
}

static double sup_weight(const struct run *r)
{
	return r->hp.supervised ? r->hp.sup_weight : 0;
}

/* Validation loss: next-packet NLL per predicted packet, plus the weighted supervised BCE
 * per labelled flow. Each process runs every size-th batch (they come longest first) and
 * keeps its sums per batch; the batches' sums are then added in batch order, as one
 * process adds them. */
static int validate(struct run *r, double *val, double *val_next, double *val_sup)
{
	size_t nb = r->vb.n_batches;
	double *part = r->val_parts;
	memset(part, 0, nb * 4 * sizeof *part);
	int rc = 0;
	for (size_t i = (size_t)r->dist->rank; i < nb; i += (size_t)r->dist->size) {
		struct ssmf_batch b;
		struct ssmf_outputs out;
		train_batcher_get(&r->vb, i, sup_weight(r), &b);
		if (r->eng.infer(r->eng.ctx, &b, &out, r->err, r->errlen) < 0) {
			rc = TRAIN_E_INTERNAL;
			break;
		}
		part[4 * i] = out.loss_next * (double)out.n_pred;
		part[4 * i + 1] = (double)out.n_pred;
		if (b.label) {
			int nl = 0;
			for (int k = 0; k < b.B; k++)
				nl += b.label[k] >= 0;
			part[4 * i + 2] = out.loss_sup * nl;
			part[4 * i + 3] = nl;
		}
	}
	if ((rc = train_dist_agree(r->dist, rc, r->err, r->errlen)) < 0 ||
	    (rc = train_dist_sum_disjoint(r->dist, part, (int)(nb * 4), r->err, r->errlen)) < 0)
		return rc;
	double next_sum = 0, pred = 0, sup_sum = 0, lab = 0;
	for (size_t i = 0; i < nb; i++) {
		next_sum += part[4 * i];
		pred += part[4 * i + 1];
		sup_sum += part[4 * i + 2];
		lab += part[4 * i + 3];
	}
	*val_next = pred > 0 ? next_sum / pred : 0;
	*val_sup = lab > 0 ? sup_sum / lab : 0;
	*val = *val_next + sup_weight(r) * *val_sup;
	return 0;
}

static int append_history(struct run *r, const struct train_epoch_info *e)
{
	cJSON *h = cJSON_CreateObject();
	if (!h)
		return -1;
	cJSON_AddNumberToObject(h, "epoch", e->epoch);
	cJSON_AddNumberToObject(h, "step", (double)e->step);
	cJSON_AddItemToObject(h, "train_loss", train_json_number(e->train_loss));
	cJSON_AddItemToObject(h, "val_loss", train_json_number(e->val_loss));
	cJSON_AddItemToArray(r->history, h);
	return 0;
}

/* Closes the epoch the last step belonged to: validation, early stopping, history. Sets
 * *stop when training should end here. */
static int end_epoch(struct run *r, int *stop)
{
	struct train_epoch_info e = {0};
	e.epoch = (int)r->st.epoch + 1;
	e.step = (long)r->st.step;
	e.train_loss = r->st.epoch_pred > 0 ? r->st.epoch_loss_sum / r->st.epoch_pred : NAN;
	r->last_train_loss = e.train_loss;
	e.val_loss = e.val_next = e.val_sup = NAN;
	size_t n = ssmf_model_num_params(r->m);
	if (r->vb.n > 0) {
		int rc = validate(r, &e.val_loss, &e.val_next, &e.val_sup);
		if (rc < 0)
			return rc;
		if (!isfinite(e.val_loss))
			return diverged(r, (long)r->st.step, "the validation loss", e.val_loss);
		if (r->st.best_epoch == 0 || e.val_loss < r->st.best_val - r->hp.min_delta) {
			if ((rc = sync_host(r)) < 0)
				return rc;
			e.improved = 1;
			r->st.best_val = e.val_loss;
			r->st.best_epoch = e.epoch;
			r->st.bad_epochs = 0;
			memcpy(r->best, ssmf_model_params(r->m), n * sizeof *r->best);
		} else {
			r->st.bad_epochs++;
		}
		if (r->hp.patience > 0 && r->st.bad_epochs >= r->hp.patience) {
			*stop = 1;
			r->stop_reason = "early_stop";
		}
	}
	e.best_val = r->st.best_epoch ? r->st.best_val : NAN;
	e.best_epoch = (int)r->st.best_epoch;
	r->st.epoch++;
	r->st.batch = 0;
	r->st.epoch_loss_sum = 0;
	r->st.epoch_pred = 0;
	if (!*stop && r->st.epoch >= r->hp.epochs) {
		*stop = 1;
		r->stop_reason = "epochs";
	}
	if (!*stop && r->hp.max_steps > 0 && r->st.step >= r->hp.max_steps) {
		*stop = 1;
		r->stop_reason = "max_steps";
	}
	e.stop = *stop;
	if (append_history(r, &e) < 0) {
		snprintf(r->err, r->errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	OBS(r, on_epoch, &e);
	return 0;
}

/* One optimizer step on batch i of the current epoch. */
static int train_step(struct run *r, size_t i)
{
	struct ssmf_batch b;
	struct ssmf_outputs out;
	long packets = train_batcher_get(&r->tb, i, sup_weight(r), &b);
	long step = (long)r->st.step + 1;
	double lr = train_lr_at(step, r->total_steps, r->hp.warmup, r->hp.lr, r->hp.min_lr_ratio);
	int rc = r->eng.forward_backward(r->eng.ctx, &b, &out, r->err, r->errlen);
	if (rc < 0)
		return rc == -1 ? TRAIN_E_INTERNAL : rc;
	if (!isfinite(out.loss))
		return diverged(r, step, "the loss", out.loss);
	double gn;
	if (r->eng.grad_norm(r->eng.ctx, &gn, r->err, r->errlen) < 0)
		return TRAIN_E_INTERNAL;
	if (!isfinite(gn))
		return diverged(r, step, "the gradient norm", gn);
	struct ssmf_adamw_step s = {
	    .t = step,
	    .lr = lr,
	    .beta1 = r->hp.beta1,
	    .beta2 = r->hp.beta2,
	    .eps = r->hp.eps,
	    .weight_decay = r->hp.weight_decay,
	    .grad_scale = r->hp.grad_clip > 0 && gn > r->hp.grad_clip ? r->hp.grad_clip / gn : 1,
	};
	long bad = r->eng.adamw(r->eng.ctx, &s, r->err, r->errlen);
	if (bad < 0)
		return TRAIN_E_INTERNAL;
	if (bad > 0)
		return diverged(r, step, "the number of non-finite parameters", (double)bad);
	r->st.step = step;
	r->st.batch = (int64_t)i + 1;
	r->st.epoch_loss_sum += out.loss * (double)out.n_pred;
	r->st.epoch_pred += (double)out.n_pred;
	struct train_step_info si = {
	    .step = step,
	    .total_steps = r->total_steps,
	    .epoch = (int)r->st.epoch + 1,
	    .loss = out.loss,
	    .loss_next = out.loss_next,
	    .loss_sup = out.loss_sup,
	    .lr = lr,
	    .grad_norm = gn,
	    .packets = packets,
	    .flows = b.B,
	};
	OBS(r, on_step, &si);
	return 0;
}

static int loop(struct run *r)
{
	int stop = 0;
	long every = r->hp.checkpoint_every;
	while (!stop) {
		if (r->st.batch == 0)
			r->st.rng = train_rng_epoch(r->hp.seed, (int)r->st.epoch);
		train_batcher_plan_epoch(&r->tb, r->st.rng);
		for (size_t i = (size_t)r->st.batch; i < r->tb.n_batches && !stop; i++) {
			int rc = train_step(r, i);
			if (rc < 0)
				return rc;
			int epoch_end = i + 1 == r->tb.n_batches ||
			                (r->hp.max_steps > 0 && r->st.step >= r->hp.max_steps);
			if (epoch_end && (rc = end_epoch(r, &stop)) < 0)
				return rc;
			if (stop)
				break; /* the final checkpoint follows */
			/* a signal may reach the processes at different steps */
			int interrupted =
			    train_dist_any(r->dist,
			                   r->o->obs && r->o->obs->should_stop &&
			                       r->o->obs->should_stop(r->o->obs->user),
			                   r->err, r->errlen);
			if (interrupted < 0)
				return interrupted;
			if (epoch_end || interrupted || (every > 0 && r->st.step % every == 0))
				if ((rc = write_checkpoint(r)) < 0)
					return rc;
			if (interrupted) {
				snprintf(r->err, r->errlen,
				         "interrupted at step %ld; resume with --resume %s",
				         (long)r->st.step, r->o->checkpoint);
				return TRAIN_E_STOPPED;
			}
			if (epoch_end)
				break; /* next epoch: a new plan */
		}
	}
	r->st.done = 1;
	int rc = write_checkpoint(r);
	return rc < 0 ? rc : write_model(r);
}

/* Hyper-parameters, history and first-run provenance from a checkpoint's META. */
static int restore_meta(struct run *r, const char *meta)
{
	cJSON *j = cJSON_Parse(meta);
	const cJSON *hp = cJSON_GetObjectItemCaseSensitive(j, "hyperparameters");
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "training");
	const cJSON *hist = cJSON_GetObjectItemCaseSensitive(tr, "history");
	const cJSON *created = cJSON_GetObjectItemCaseSensitive(j, "created");
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(j, "command_line");
	char why[200];
	if (!j || !hp || !cJSON_IsArray(hist) || !cJSON_IsString(created) || !cJSON_IsString(cmd) ||
	    train_hparams_from_json(hp, &r->hp, why, sizeof why) < 0) {
		snprintf(r->err, r->errlen, "%s: unreadable training metadata%s%s", r->o->resume,
		         j && hp ? ": " : "", j && hp ? why : "");
		cJSON_Delete(j);
		return TRAIN_E_INPUT;
	}
	const cJSON *why_stop = cJSON_GetObjectItemCaseSensitive(tr, "stop_reason");
	if (cJSON_IsString(why_stop)) {
		snprintf(r->stop_buf, sizeof r->stop_buf, "%s", why_stop->valuestring);
		r->stop_reason = r->stop_buf;
	}
	r->history = cJSON_Duplicate(hist, 1);
	r->created = strdup(created->valuestring);
	r->command_line = strdup(cmd->valuestring);
	cJSON_Delete(j);
	if (!r->history || !r->created || !r->command_line) {
		snprintf(r->err, r->errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	return 0;
}

static int setup_model(struct run *r, struct train_loaded *ld)
{
	const struct train_opts *o = r->o;
	if (o->resume) {
		if (train_state_load(o->resume, ld, r->err, r->errlen) < 0)
			return TRAIN_E_INPUT;
		r->m = ld->m;
		ld->m = NULL;
		r->st = ld->st;
		int rc = restore_meta(r, ld->meta);
		if (rc < 0)
			return rc;
	} else {
		r->hp = o->hp;
		r->history = cJSON_CreateArray();
		r->created = strdup(o->created ? o->created : "");
		r->command_line = strdup(o->command_line ? o->command_line : "");
		if (!r->history || !r->created || !r->command_line) {
			snprintf(r->err, r->errlen, "out of memory");
			return TRAIN_E_INTERNAL;
		}
	}
	if (train_hparams_validate(&r->hp, r->err, r->errlen) < 0)
		return TRAIN_E_USAGE;
	if (!o->resume) {
		r->m = ssmf_model_new(&r->hp.model, r->hp.seed, r->err, r->errlen);
		if (!r->m)
			return TRAIN_E_USAGE;
		r->st.version = TRAIN_TSTATE_VERSION;
		r->st.n_params = ssmf_model_num_params(r->m);
	}
	size_t n = ssmf_model_num_params(r->m);
	if (ssmf_adamw_init(&r->opt, r->m) < 0 || !(r->best = calloc(n, sizeof *r->best))) {
		snprintf(r->err, r->errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	if (o->resume) {
		memcpy(r->opt.m, ld->moments, n * sizeof *r->opt.m);
		memcpy(r->opt.v, ld->moments + n, n * sizeof *r->opt.v);
		memcpy(r->best, ld->best, n * sizeof *r->best);
	}
	enum ssmf_device device = SSMF_DEVICE_CPU;
	if (o->device && ssmf_device_parse(o->device, &device) != 0) {
		snprintf(r->err, r->errlen, "--device %s: unknown device (cpu or cuda)", o->device);
		return TRAIN_E_USAGE;
	}
	struct ssmf_engine_opts eo = {.max_B = r->hp.batch_size,
	                              .max_T = r->hp.max_len,
	                              .train = r->m,
	                              .opt = &r->opt,
	                              .reducer = train_dist_reducer(r->dist, &r->reducer),
	                              .device = r->dist->local_rank};
	switch (ssmf_engine_open(&r->eng, device, r->m, &eo, r->err, r->errlen)) {
	case 0:
		break;
	case SSMF_ENGINE_E_CONFIG: /* a model the kernels do not support */
		return TRAIN_E_USAGE;
	case SSMF_ENGINE_E_NO_DEVICE:
		return TRAIN_E_NO_CUDA;
	default:
		return TRAIN_E_INTERNAL;
	}
	if (o->resume && r->eng.sync_from_host(r->eng.ctx, r->err, r->errlen) < 0)
		return TRAIN_E_INTERNAL;
	return 0;
}

static int setup_data(struct run *r)
{
	const struct train_opts *o = r->o;
	int (*load)(struct train_flowset *, const char *const *, int, int, char *, size_t) =
	    o->host_level ? train_hostset_load : train_flowset_load;
	int rc = load(&r->train_fs, o->train_paths, o->n_train, r->hp.max_len, r->err, r->errlen);
	if (rc < 0)
		return rc;
	if (r->train_fs.n == 0) {
		if (o->n_train == 1)
			snprintf(r->err, r->errlen,
			         "%s: no flow with 2 or more packets to train on",
			         o->train_paths[0]);
		else
			snprintf(r->err, r->errlen,
			         "none of the %d datasets has a flow with 2 or more packets",
			         o->n_train);
		return TRAIN_E_INPUT;
	}
	r->val_src = &r->train_fs;
	if (o->n_val > 0) {
		rc = load(&r->val_fs, o->val_paths, o->n_val, r->hp.max_len, r->err, r->errlen);
		if (rc < 0)
			return rc;
		if (r->val_fs.n == 0) {
			snprintf(r->err, r->errlen,
			         "%s: no flow with 2 or more packets to validate on",
			         o->val_paths[0]);
			return TRAIN_E_INPUT;
		}
		r->val_src = &r->val_fs;
		struct train_split tv;
		if (train_split_all(&r->train_fs, 0, &r->split) < 0 ||
		    train_split_all(&r->val_fs, 1, &tv) < 0) {
			snprintf(r->err, r->errlen, "out of memory");
			return TRAIN_E_INTERNAL;
		}
		r->split.val = tv.val;
		r->split.n_val = tv.n_val;
	} else if (train_split_by_time(&r->train_fs, r->hp.val_fraction, &r->split) < 0) {
		snprintf(r->err, r->errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	if (r->hp.supervised &&
	    count_labelled(&r->train_fs, r->split.train, r->split.n_train) == 0) {
		snprintf(r->err, r->errlen,
		         "--supervised: no training flow carries a label (join labels with "
		         "'ssmflow extract --labels')");
		return TRAIN_E_INPUT;
	}
	if (train_batcher_init(&r->tb, &r->train_fs, r->split.train, r->split.n_train,
	                       r->hp.batch_size, r->hp.max_len) < 0 ||
	    train_batcher_init(&r->vb, r->val_src, r->split.val, r->split.n_val, r->hp.batch_size,
	                       r->hp.max_len) < 0) {
		snprintf(r->err, r->errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	train_batcher_plan_fixed(&r->vb);
	if (!(r->val_parts = calloc(r->vb.n_batches * 4 + 1, sizeof *r->val_parts))) {
		snprintf(r->err, r->errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	long nb = (long)r->tb.n_batches;
	r->total_steps = nb * (long)r->hp.epochs;
	if (r->hp.max_steps > 0 && r->hp.max_steps < r->total_steps)
		r->total_steps = (long)r->hp.max_steps;
	uint64_t vfp = r->val_src == &r->train_fs ? 0 : r->val_fs.fingerprint;
	if (o->resume) {
		if (r->st.fingerprint != r->train_fs.fingerprint || r->st.val_fingerprint != vfp) {
			snprintf(
			    r->err, r->errlen,
			    "%s: the datasets differ from those this checkpoint was trained on",
			    o->resume);
			return TRAIN_E_USAGE;
		}
	} else {
		r->st.fingerprint = r->train_fs.fingerprint;
		r->st.val_fingerprint = vfp;
	}
	return 0;
}

int train_run(const struct train_opts *o, struct train_result *res, char *err, size_t errlen)
{
	struct run r = {.o = o, .err = err, .errlen = errlen, .last_ckpt_step = -1};
	r.solo.size = 1;
	r.dist = o->dist ? o->dist : &r.solo;
	r.obs = r.dist->rank == 0 ? o->obs : NULL;
	struct train_loaded ld = {0};
	memset(res, 0, sizeof *res);
	if (o->threads > 0)
		ssmf_set_threads(o->threads);
	int rc = setup_model(&r, &ld);
	if (rc == 0)
		rc = setup_data(&r);
	/* the processes set up alike; one that could not (memory, a file) stops them all */
	rc = train_dist_agree(r.dist, rc, err, errlen);
	if (rc == 0) {
		if (o->resume)
			r.last_ckpt_step = (long)r.st.step;
		struct train_start_info si = {
		    .train_flows = (long)r.split.n_train,
		    .val_flows = (long)r.split.n_val,
		    .train_packets = count_packets(&r.train_fs, r.split.train, r.split.n_train),
		    .val_packets = count_packets(r.val_src, r.split.val, r.split.n_val),
		    .batches_per_epoch = (long)r.tb.n_batches,
		    .total_steps = r.total_steps,
		    .first_step = (long)r.st.step + 1,
		    .n_params = ssmf_model_num_params(r.m),
		    .resumed = o->resume != NULL,
		};
		OBS(&r, on_start, &si);
		if (r.st.done) {
			rc = write_model(&r);
			r.stop_reason = "already_done";
		} else {
			r.stop_reason = NULL;
			rc = loop(&r);
		}
	}
	res->steps = (long)r.st.step;
	res->epochs = (int)r.st.epoch;
	res->best_epoch = (int)r.st.best_epoch;
	res->best_val = r.st.best_epoch ? r.st.best_val : NAN;
	res->stop_reason = r.stop_reason;
	res->last_train_loss = r.last_train_loss;
	train_loaded_free(&ld);
	ssmf_model_free(ld.m);
	ssmf_engine_close(&r.eng);
	train_batcher_free(&r.tb);
	train_batcher_free(&r.vb);
	train_split_free(&r.split);
	train_flowset_free(&r.train_fs);
	train_flowset_free(&r.val_fs);
	ssmf_adamw_free(&r.opt);
	ssmf_model_free(r.m);
	free(r.best);
	free(r.val_parts);
	cJSON_Delete(r.history);
	free(r.created);
	free(r.command_line);
	return rc;
}
