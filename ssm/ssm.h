/* ssm.h - the selective state-space model over a flow's packets (public API).
 *
 * A Mamba-3-style model: records -> fixed normalisation -> embedding ->
 * n_layer x (RMSNorm, mixer, residual) -> RMSNorm -> next-packet heads.
 * docs/model.md gives every formula. Library code never prints or exits:
 * errors go into the caller's buffer and a negative return.
 *
 * Two execution modes with the same numbers (within 1e-5 relative):
 * sequence mode (ssmf_forward/ssmf_backward over a batch of whole flows,
 * B flows x T max packets, per-flow lengths) and step mode (ssmf_step: one
 * packet of many flows, state kept per flow).
 */
#ifndef SSMF_SSM_H
#define SSMF_SSM_H

#include <stddef.h>
#include <stdint.h>

#include "features/ssmf_record.h"

/* The float type of the whole model. Tests compile the same sources with
 * -DSSMF_REAL_DOUBLE for finite-difference checks in double precision. */
#ifdef SSMF_REAL_DOUBLE
typedef double ssmf_real;
#else
typedef float ssmf_real;
#endif

/* Next-packet heads: logits of one position, in this order. */
#define SSMF_N_DIR          2  /* direction of the next packet (softmax) */
#define SSMF_N_SIZE_BUCKETS 16 /* ip_len bucket of the next packet (softmax) */
#define SSMF_N_GAP_BUCKETS  16 /* gap_us bucket of the next packet (softmax) */
#define SSMF_N_TCP_BITS     8  /* TCP flag bits of the next packet (8 Bernoulli, TCP only) */
#define SSMF_LOGIT_DIR      0
#define SSMF_LOGIT_SIZE     (SSMF_LOGIT_DIR + SSMF_N_DIR)
#define SSMF_LOGIT_GAP      (SSMF_LOGIT_SIZE + SSMF_N_SIZE_BUCKETS)
#define SSMF_LOGIT_FLAGS    (SSMF_LOGIT_GAP + SSMF_N_GAP_BUCKETS)
#define SSMF_N_LOGITS       (SSMF_LOGIT_FLAGS + SSMF_N_TCP_BITS) /* 42 */

/* Components of the per-packet negative log-likelihood. */
enum ssmf_component {
	SSMF_COMP_DIR = 0,
	SSMF_COMP_SIZE = 1,
	SSMF_COMP_GAP = 2,
	SSMF_COMP_FLAGS = 3,
	SSMF_N_COMP = 4,
};

/* Number of input features the normalisation produces per record. */
#define SSMF_N_FEATURES 25

#define SSMF_CONFIG_VERSION 1

struct ssmf_config {
	int32_t d_model; /* residual width (default 64) */
	int32_t n_layer; /* blocks (default 2) */
	int32_t d_state; /* N, state size per head and channel, even (default 16) */
	int32_t expand;  /* d_inner = expand * d_model (default 2) */
	int32_t headdim; /* P, channels per head; nheads = d_inner / headdim (default 16) */
};

/* Derived sizes. */
struct ssmf_dims {
	int D;  /* d_model */
	int L;  /* n_layer */
	int N;  /* d_state */
	int DI; /* d_inner */
	int H;  /* nheads */
	int P;  /* headdim */
	int NA; /* rotary angles = N / 2 */
	int DP; /* in_proj output width = 2*DI + 2*N + 3*H + NA */
	int F;  /* input features */
	int O_Z, O_X, O_B, O_C, O_DT, O_A, O_LAM, O_TH; /* column offsets in the in_proj output */
};

void ssmf_config_default(struct ssmf_config *cfg);
int ssmf_config_validate(const struct ssmf_config *cfg, char *err, size_t errlen);
void ssmf_config_dims(const struct ssmf_config *cfg, struct ssmf_dims *d);

/* ---- input normalisation (fixed; exported with the model) ---- */

enum ssmf_norm_kind {
	SSMF_NORM_LOG1P = 0,       /* log1p(field) * scale */
	SSMF_NORM_LINEAR = 1,      /* field * scale */
	SSMF_NORM_BIT = 2,         /* (field & arg) != 0 */
	SSMF_NORM_EQUAL = 3,       /* field == arg */
	SSMF_NORM_PROTO_OTHER = 4, /* ip_proto not in {6, 17, 1, 58} */
};

struct ssmf_norm_entry {
	const char *name;  /* feature name, e.g. "log_ip_len" */
	const char *field; /* record field it reads, e.g. "ip_len" */
	int kind;          /* enum ssmf_norm_kind */
	uint32_t arg;      /* bit mask or value for BIT / EQUAL */
	double scale;      /* for LOG1P / LINEAR */
};

/* Constants that are not features but belong to the model's contract. */
struct ssmf_norm_constants {
	double gap_dt_scale; /* g = log1p(gap_us * gap_dt_scale) enters DT */
	uint32_t size_edges[SSMF_N_SIZE_BUCKETS - 1]; /* bucket = #edges <= ip_len */
	uint32_t gap_edges[SSMF_N_GAP_BUCKETS - 1];   /* bucket = #edges <= gap_us */
	int record_version;                           /* SSMF_RECORD_VERSION */
};

const struct ssmf_norm_entry *ssmf_norm_table(int *n_entries);
const struct ssmf_norm_constants *ssmf_norm_consts(void);
/* feat is (SSMF_N_FEATURES); *gdt receives the gap term of the discretisation. */
void ssmf_normalise_record(const struct ssmf_record *r, ssmf_real *feat, ssmf_real *gdt);

/* ---- parameters ---- */

#define SSMF_MAX_NAME 64

struct ssmf_param_info {
	char name[SSMF_MAX_NAME]; /* e.g. "layers.0.mixer.in_proj.weight" */
	int ndim;                 /* 1 or 2 */
	int shape[2];             /* PyTorch order: (out, in) for weights */
	size_t offset;            /* elements from the start of the parameter buffer */
	size_t numel;
	int decay; /* 1 when AdamW weight decay applies (matrices only) */
};

struct ssmf_model;

/* Allocates and initialises (deterministic for a seed). NULL on error. */
struct ssmf_model *ssmf_model_new(const struct ssmf_config *cfg, uint64_t seed, char *err,
                                  size_t errlen);
void ssmf_model_free(struct ssmf_model *m);
const struct ssmf_config *ssmf_model_config(const struct ssmf_model *m);
size_t ssmf_model_num_params(const struct ssmf_model *m);
ssmf_real *ssmf_model_params(struct ssmf_model *m); /* (num_params) contiguous */
ssmf_real *ssmf_model_grads(struct ssmf_model *m);  /* (num_params), same layout */
int ssmf_model_num_tensors(const struct ssmf_model *m);
const struct ssmf_param_info *ssmf_model_tensor(const struct ssmf_model *m, int i);
int ssmf_model_find_tensor(const struct ssmf_model *m, const char *name); /* index or -1 */
void ssmf_zero_grad(struct ssmf_model *m);

/* ---- sequence mode ---- */

struct ssmf_acts;

/* Activations for batches of up to max_B flows of up to max_T packets. */
struct ssmf_acts *ssmf_acts_new(const struct ssmf_model *m, int max_B, int max_T, char *err,
                                size_t errlen);
void ssmf_acts_free(struct ssmf_acts *a);

struct ssmf_batch {
	const struct ssmf_record *rec; /* (B,T): flow b's packet t at rec[b*T + t] */
	const int *len;                /* (B) packets of each flow, 1..T (0 = empty slot) */
	const int8_t *label;           /* (B) 1 attack, 0 benign, -1 unknown; NULL: none */
	int B, T;
	double sup_weight; /* weight of the supervised BCE in the loss (0: off) */
	/* (B) or NULL; ssmf_infer only. Flow b starts from state[b] (ssmf_step_state_size
	 * floats, step mode's layout; ssmf_step_state_reset for a flow's start), which receives
	 * the state after its last packet: a long flow scored chunk after chunk gets the numbers
	 * of one piece. Its first packet's surprise then comes from the state's prediction
	 * (zero for a reset state); score and score_comp average the packets predicted; the
	 * loss, n_pred and cls_logit are not defined. */
	ssmf_real *const *state;
};

struct ssmf_outputs {
	double loss;          /* mean over predicted packets of summed NLLs (+ sup_weight * BCE) */
	double loss_next;     /* the self-supervised part */
	double loss_sup;      /* mean BCE over labelled flows (0 when none) */
	long n_pred;          /* predicted packets in the batch */
	const ssmf_real *nll; /* (B,T,SSMF_N_COMP): surprise of packet t given packets < t;
	                         zero for t = 0 and t >= len */
	const ssmf_real *score;      /* (B) mean summed NLL per predicted packet of the flow */
	const ssmf_real *score_comp; /* (B,SSMF_N_COMP) the same per component */
	const ssmf_real *logits;     /* (B,T,SSMF_N_LOGITS): prediction for packet t+1 */
	const ssmf_real *cls_logit;  /* (B) supervised flow logit */
};

/* Forward over a batch; fills *out (pointers stay valid until the next forward). */
int ssmf_forward(struct ssmf_model *m, struct ssmf_acts *a, const struct ssmf_batch *batch,
                 struct ssmf_outputs *out, char *err, size_t errlen);
/* Backward of the last forward's loss; adds into ssmf_model_grads(). */
int ssmf_backward(struct ssmf_model *m, struct ssmf_acts *a, char *err, size_t errlen);

/* Forward and backward of a training batch in one call, flow by flow: each thread runs a
 * flow's whole forward and backward in its own single-flow activations, which stay in cache
 * (ssmf_forward + ssmf_backward keep the whole batch's activations between the two passes).
 * Adds the batch's gradients into ssmf_model_grads(), as ssmf_backward does; the flows are
 * split into SSMF-fixed groups, so the result is bit-identical for any thread count. Fills
 * out->loss, loss_next, loss_sup and n_pred; its per-packet and per-flow pointers are NULL. */
int ssmf_forward_backward(struct ssmf_model *m, struct ssmf_acts *a, const struct ssmf_batch *batch,
                          struct ssmf_outputs *out, char *err, size_t errlen);

/* ssmf_forward_backward in parts, for training spread over processes (train/dist.h):
 * the batch's flows fall into ssmf_grad_groups(B) groups of consecutive flows (at most 16),
 * and the batch's gradient is the sum of the groups' gradients taken in group order.
 * ssmf_forward_backward_groups runs the groups g0..g1-1 alone (the losses and gradients
 * normalised by the whole batch's counts), keeps each group's gradient in a and writes its
 * losses to loss_next[g] and loss_sup[g]; ssmf_add_group_grads then adds the gradients of
 * groups g0..g1-1, in order, to the elements i0..i1-1 of dst (ssmf_model_num_params
 * long). Running every group and adding them all into the zeroed gradients is
 * ssmf_forward_backward, bit for bit. */
#define SSMF_MAX_GRAD_GROUPS 16
int ssmf_grad_groups(int B);
/* predicted packets of flows of these lengths (each flow's first packet has none) */
long ssmf_pred_count(const int *len, int B);
int ssmf_forward_backward_groups(struct ssmf_model *m, struct ssmf_acts *a,
                                 const struct ssmf_batch *batch, int g0, int g1, double *loss_next,
                                 double *loss_sup, char *err, size_t errlen);
void ssmf_add_group_grads(const struct ssmf_model *m, const struct ssmf_acts *a, int g0, int g1,
                          size_t i0, size_t i1, ssmf_real *dst);

/* ssmf_forward's outputs, bit-identical, without keeping the activations a backward needs:
 * each thread runs whole flows in its own single-flow activations, which stay in cache,
 * over each flow's own rows only (the logits of padding rows are 0, not computed).
 * For scoring and validation; ssmf_backward cannot follow it. */
int ssmf_infer(const struct ssmf_model *m, struct ssmf_acts *a, const struct ssmf_batch *batch,
               struct ssmf_outputs *out, char *err, size_t errlen);
/* Activations for ssmf_infer alone: the batch's outputs and one flow's activations per
 * thread (a small fraction of ssmf_acts_new's for long batches). */
struct ssmf_acts *ssmf_acts_new_infer(const struct ssmf_model *m, int max_B, int max_T, char *err,
                                      size_t errlen);

/* ---- step mode ---- */

/* Floats of state per flow (all layers, plus the pending prediction). */
size_t ssmf_step_state_size(const struct ssmf_model *m);
void ssmf_step_state_reset(const struct ssmf_model *m, ssmf_real *state);

struct ssmf_step_ws;
struct ssmf_step_ws *ssmf_step_ws_new(const struct ssmf_model *m, int max_flows, char *err,
                                      size_t errlen);
void ssmf_step_ws_free(struct ssmf_step_ws *ws);

/* One packet for each of n flows. state[i] is flow i's state (ssmf_step_state_size floats).
 * nll (n,SSMF_N_COMP): surprise of rec[i] under the flow's previous prediction (zeros for the
 * flow's first packet); logits (n,SSMF_N_LOGITS) or NULL: the new prediction; both NULL-able. */
int ssmf_step(const struct ssmf_model *m, struct ssmf_step_ws *ws, ssmf_real *const *state,
              const struct ssmf_record *rec, int n, ssmf_real *nll, ssmf_real *logits, char *err,
              size_t errlen);

/* NLL components of record `next` under the logits of the position before it. */
void ssmf_packet_nll(const ssmf_real *logits, const struct ssmf_record *next, ssmf_real *nll);
int ssmf_size_bucket(uint32_t ip_len);
int ssmf_gap_bucket(uint32_t gap_us);

/* ---- checkpoints ---- */

/* Writes config + parameters atomically (temp file, fsync, rename). */
int ssmf_checkpoint_save(const char *path, const struct ssmf_model *m, char *err, size_t errlen);
/* Validates everything (sizes, version, section table, CRC32s, config) before use. */
struct ssmf_model *ssmf_checkpoint_load(const char *path, char *err, size_t errlen);
/* The same from a checkpoint in memory (`name` for messages). */
struct ssmf_model *ssmf_checkpoint_load_mem(const char *name, const void *data, size_t len,
                                            char *err, size_t errlen);

/* Extra sections beside CONFIG and PARAMS (optimizer state, training metadata...): same
 * file, same checks; loaders that do not know a section skip it. */
struct ssmf_ckpt_section {
	const char *name; /* 1..8 characters, not "CONFIG" or "PARAMS" */
	void *data;       /* save: the payload (read only); load: a malloc'd copy or NULL */
	uint64_t size;    /* bytes */
};
int ssmf_checkpoint_save_sections(const char *path, const struct ssmf_model *m,
                                  const struct ssmf_ckpt_section *extra, int n_extra, char *err,
                                  size_t errlen);
/* Loads like ssmf_checkpoint_load and copies each wanted section by name into want[i].data
 * (caller frees; NULL and size 0 when the file has no such section). */
struct ssmf_model *ssmf_checkpoint_load_sections(const char *path, struct ssmf_ckpt_section *want,
                                                 int n_want, char *err, size_t errlen);
/* The same from a checkpoint in memory (`name` for messages). */
struct ssmf_model *ssmf_checkpoint_load_mem_sections(const char *name, const void *data, size_t len,
                                                     struct ssmf_ckpt_section *want, int n_want,
                                                     char *err, size_t errlen);

/* ---- threads ---- */

/* Threads used by forward/backward/step (0 = OpenMP default). Results are deterministic
 * for a given thread count. */
void ssmf_set_threads(int n);
int ssmf_get_threads(void);
/* which clone of the hot loops this CPU runs: "x86-64-v4", "x86-64-v3", "x86-64", or
 * "compiler target" without clones; results are bit-reproducible within one level */
const char *ssmf_cpu_kernels(void);
/* Caps the hand-written per-width kernels (the GEMM tile, the forward scan) at a level named
 * as above, below what this CPU runs: tests run each width the CPU has and compare them
 * (they give the same numbers). The compiler's clones keep this CPU's level. 0, or -1 for
 * a name that is not a level. */
int ssmf_cap_kernels(const char *name);

#endif
