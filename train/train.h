/* train.h - training the flow model on datasets (public API of train/).
 *
 * train_run reads datasets, splits them by time, runs AdamW over length-bucketed
 * batches, validates every epoch, stops early, and writes checkpoints that resume
 * bit for bit. Library code: it never prints or exits; progress goes to an
 * observer, errors into the caller's buffer with a negative return (enum train_rc).
 * Deterministic for a given seed and data, for any thread count; ssmflow-train(1) has
 * the details.
 */
#ifndef SSMF_TRAIN_H
#define SSMF_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ssm/ssm.h"

/* Every hyper-parameter; stored in the checkpoint (META section, JSON) and restored by
 * --resume. What each is, its bounds and its option: the table in train/hparams.h; the
 * defaults: train_hparams_default. */
struct train_dist;

struct train_hparams {
	struct ssmf_config model;
	uint64_t seed;
	int32_t epochs;
	int64_t max_steps; /* 0: no limit beyond epochs */
	int32_t batch_size;
	int32_t max_len;
	double lr;
	double min_lr_ratio;
	int32_t warmup;
	double weight_decay;
	double beta1, beta2;
	double eps;
	double grad_clip; /* 0: off */
	int32_t patience; /* 0: off */
	double min_delta;
	double val_fraction;
	int32_t supervised;
	double sup_weight;
	int32_t checkpoint_every; /* 0: epoch ends only */
};

void train_hparams_default(struct train_hparams *hp);
int train_hparams_validate(const struct train_hparams *hp, char *err, size_t errlen);

/* Negative return codes: the command maps each to an exit code. */
enum train_rc {
	TRAIN_OK = 0,
	TRAIN_E_USAGE = -1,    /* bad hyper-parameters, unknown device, resume mismatch */
	TRAIN_E_INPUT = -2,    /* a dataset or checkpoint could not be read, or has no data */
	TRAIN_E_OUTPUT = -4,   /* a checkpoint or the model could not be written */
	TRAIN_E_INTERNAL = -5, /* out of memory */
	TRAIN_E_DIVERGED = -6, /* NaN or Inf in the loss, gradients or parameters */
	TRAIN_E_STOPPED = -7,  /* should_stop asked; a checkpoint was written */
	TRAIN_E_NO_CUDA = -8,  /* --device cuda: built without CUDA, or no usable device */
	TRAIN_E_DIST = -9,     /* MPI failed: a process of a distributed run died (dist.h) */
};

struct train_start_info {
	long train_flows, val_flows;     /* flows with >= 2 packets */
	long train_packets, val_packets; /* records the model sees (after --max-len) */
	long batches_per_epoch;
	long total_steps; /* planned (early stopping may end sooner) */
	long first_step;  /* 1, or the step after the resumed checkpoint */
	size_t n_params;
	int resumed;
};

struct train_step_info {
	long step, total_steps;
	int epoch; /* 1-based */
	double loss, loss_next, loss_sup;
	double lr, grad_norm;
	long packets; /* real packets in the batch */
	long flows;
};

struct train_epoch_info {
	int epoch;
	long step;
	double train_loss;
	double val_loss, val_next, val_sup; /* NaN without validation */
	double best_val;
	int best_epoch;
	int improved;
	int stop; /* 1 when this epoch ends training (early stop, last epoch, step limit) */
};

struct train_observer {
	void *user;
	void (*on_start)(void *user, const struct train_start_info *s);
	void (*on_step)(void *user, const struct train_step_info *s);
	void (*on_epoch)(void *user, const struct train_epoch_info *e);
	void (*on_checkpoint)(void *user, const char *path, long step);
	int (*should_stop)(void *user); /* polled after each step */
	/* train_levels_run (levels.h): the level about to train, 1 host, 0 packet (NULL-able) */
	void (*on_level)(void *user, int host_level);
};

struct train_opts {
	struct train_hparams hp;
	const char *const *train_paths; /* datasets read as one */
	int n_train;
	const char *const *val_paths; /* --val: validation datasets instead of the time split */
	int n_val;
	const char *output;     /* the model: best validation parameters + metadata */
	const char *checkpoint; /* training state, resumable */
	const char *resume;     /* a checkpoint to continue from, or NULL */
	const char *device;     /* "cpu", "cuda" or "cuda-emulated" (tests; cuda/devices.h) */
	int host_level;         /* train the host level on the datasets' host sequences
	                           (train/hostset.h) instead of the packet level */
	int threads;            /* 0: OpenMP default */
	const char *software;   /* e.g. "ssmflow 0.1.0", for the metadata */
	const char *created;    /* ISO 8601 time, for the metadata */
	const char *command_line;
	const struct train_observer *obs; /* called on rank 0 only (should_stop on every rank) */
	struct train_dist *dist;          /* the MPI job (train/dist.h); NULL: one process */
};

struct train_result {
	long steps;
	int epochs;
	int best_epoch;
	double best_val, last_train_loss;
	const char *stop_reason; /* "early_stop", "epochs", "max_steps", "already_done" */
	/* train_levels_run, in the host level's result: the validation flows the evidence
	 * baseline (ssm/evidence.h) was fitted to; 0: too few, no EVIDENCE section */
	unsigned long long evidence_flows;
};

int train_run(const struct train_opts *o, struct train_result *res, char *err, size_t errlen);

/* The metadata (JSON text) of a model or checkpoint; malloc'd, NULL if it has none. */
char *train_read_meta(const char *path, char *err, size_t errlen);

#endif
