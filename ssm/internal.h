/* internal.h - model, activation and op declarations shared inside ssm/.
 *
 * Every op is a pair op_forward / op_backward over flat arrays, shapes beside
 * each pointer. Backward ops add (+=) into their input gradients unless the
 * comment says "writes". Parameter gradients of small tensors are reduced per
 * flow into a scratch (B, n) and summed over b in order, so results do not
 * depend on the thread count.
 */
#ifndef SSMF_INTERNAL_H
#define SSMF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <tgmath.h>
#undef I /* complex.h's imaginary unit; we name dimensions I */

#include "ssm/ssm.h"

#define R(x) ((ssmf_real)(x))

/* Clamp of -A from below: keeps every head decaying. */
#define SSMF_A_MIN    1e-4
#define SSMF_NORM_EPS 1e-5

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(SSMF_NO_CLONES)
#define SSMF_CLONES 1
#define SSMF_HOT    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SSMF_HOT
#endif

/* Sum of squares in 16 interleaved partial sums, added pairwise at the end: a fixed order
 * (the same in every mode and thread count) that vectorises, unlike one running sum. */
static inline ssmf_real ssmf_sum_squares(const ssmf_real *x, int n)
{
	ssmf_real p[16] = {0};
	int i = 0;
	for (; i + 16 <= n; i += 16)
		for (int j = 0; j < 16; j++)
			p[j] += x[i + j] * x[i + j];
	for (int j = 0; i + j < n; j++)
		p[j] += x[i + j] * x[i + j];
	for (int w = 8; w > 0; w /= 2)
		for (int j = 0; j < w; j++)
			p[j] += p[j + w];
	return p[0];
}

/* Sum of x in the same fixed order of 16 partial sums. */
static inline ssmf_real ssmf_sum(const ssmf_real *x, int n)
{
	ssmf_real p[16] = {0};
	int i = 0;
	for (; i + 16 <= n; i += 16)
		for (int j = 0; j < 16; j++)
			p[j] += x[i + j];
	for (int j = 0; i + j < n; j++)
		p[j] += x[i + j];
	for (int w = 8; w > 0; w /= 2)
		for (int j = 0; j < w; j++)
			p[j] += p[j + w];
	return p[0];
}

/* Named pointers into the parameter (or gradient) buffer. */
struct ssmf_layer_params {
	ssmf_real *norm_w;   /* (D) */
	ssmf_real *in_proj;  /* (DP, D) */
	ssmf_real *dt_bias;  /* (H) */
	ssmf_real *a_bias;   /* (H) */
	ssmf_real *gap_w;    /* (H) */
	ssmf_real *bnorm_w;  /* (N) */
	ssmf_real *bnorm_b;  /* (N) */
	ssmf_real *cnorm_w;  /* (N) */
	ssmf_real *cnorm_b;  /* (N) */
	ssmf_real *Dskip;    /* (H) */
	ssmf_real *out_proj; /* (D, DI) */
};

#define SSMF_MAX_LAYERS 64

struct ssmf_params {
	ssmf_real *embed_w; /* (D, F) */
	ssmf_real *embed_b; /* (D) */
	struct ssmf_layer_params layer[SSMF_MAX_LAYERS];
	ssmf_real *normf_w; /* (D) */
	ssmf_real *head_w;  /* (SSMF_N_LOGITS, D) */
	ssmf_real *head_b;  /* (SSMF_N_LOGITS) */
	ssmf_real *cls_w;   /* (1, D) */
	ssmf_real *cls_b;   /* (1) */
};

/* input.c: where the record field of each feature lies, looked up by name in the record's
 * field table once per model (ssmf_model_alloc) and read per record. */
struct ssmf_input_fields {
	uint32_t offset[SSMF_N_FEATURES];
	uint32_t size[SSMF_N_FEATURES];
};

struct ssmf_model {
	struct ssmf_config cfg;
	struct ssmf_dims d;
	size_t n_params;
	ssmf_real *params;
	ssmf_real *grads;
	struct ssmf_params p;
	struct ssmf_params g;
	int n_tensors;
	struct ssmf_param_info *info;
	struct ssmf_input_fields input;
};

/* params.c: builds the tensor table and, when base is not NULL, the named pointers into
 * base; the parameters' initial values. */
int ssmf_param_table(const struct ssmf_dims *d, struct ssmf_param_info *info, size_t *n_params);
void ssmf_param_pointers(const struct ssmf_dims *d, ssmf_real *base, struct ssmf_params *p);
void ssmf_model_init(struct ssmf_model *m, uint64_t seed);
/* model.c: a model with zeroed parameters and gradients (ssmf_model_new initialises them) */
struct ssmf_model *ssmf_model_alloc(const struct ssmf_config *cfg, char *err, size_t errlen);

/* Packed copies of the weight matrices (linear_pack), refreshed at every forward. */
struct ssmf_wt {
	ssmf_real *embed;                     /* D x F */
	ssmf_real *in_proj[SSMF_MAX_LAYERS];  /* DP x D */
	ssmf_real *out_proj[SSMF_MAX_LAYERS]; /* D x DI */
	ssmf_real *head;                      /* NL x D */
};
size_t ssmf_wt_size(const struct ssmf_dims *d);
void ssmf_wt_build(struct ssmf_wt *wt, ssmf_real *buf, const struct ssmf_model *m);

struct ssmf_layer_acts {
	ssmf_real *res;    /* (B,T,D) residual stream entering the layer */
	ssmf_real *rstd;   /* (B,T) */
	ssmf_real *xn;     /* (B,T,D) */
	ssmf_real *proj;   /* (B,T,DP) in_proj output */
	ssmf_real *dt;     /* (B,T,H) DT */
	ssmf_real *A;      /* (B,T,H) A < 0 */
	ssmf_real *alpha;  /* (B,T,H) exp(A DT) */
	ssmf_real *lam;    /* (B,T,H) */
	ssmf_real *bn;     /* (B,T,N) normalised B + bias */
	ssmf_real *cn;     /* (B,T,N) */
	ssmf_real *rstd_b; /* (B,T) */
	ssmf_real *rstd_c; /* (B,T) */
	ssmf_real *phi;    /* (B,T,H,NA) cumulative phase */
	ssmf_real *k;      /* (B,T,H,N) rotated B */
	ssmf_real *q;      /* (B,T,H,N) rotated C */
	ssmf_real *y;      /* (B,T,DI) scan output (before the gate) */
	ssmf_real *yg;     /* (B,T,DI) gated */
};

/* The backward sums weight gradients per group of flows (a fixed split of the batch, so
 * the order does not depend on the thread count), then over the groups in order. */
#define SSMF_WGROUPS SSMF_MAX_GRAD_GROUPS

/* The backward's per-row gradients of a layer (row r at r * width): d_xn (D), d_proj (DP),
 * d_dt, d_alpha, d_lam (H), d_k, d_q, d_bn_h, d_cn_h (H N; d_bn_h and d_cn_h the per-head
 * shares of d bn, d cn), d_th_h (H NA, the per-head share of d theta), d_y, d_yg (DI). Rows
 * are one flow's (row t of the flow at t * width) in the backward's scratch, or the batch's
 * (B, T, width) in acts->keep. */
struct ssmf_flow_grads {
	ssmf_real *d_xn, *d_proj, *d_dt, *d_alpha, *d_lam, *d_k, *d_q, *d_bn_h, *d_cn_h, *d_th_h;
	ssmf_real *d_y, *d_yg;
};

/* What a set of activations serves (acts.c): training, with the per-row gradients of one
 * flow at a time in a per-thread scratch; training with them kept batch-sized (acts->keep)
 * for comparisons; or ssmf_infer alone (outputs only). */
enum ssmf_acts_kind { SSMF_ACTS_TRAIN, SSMF_ACTS_KEEP, SSMF_ACTS_INFER };

struct ssmf_acts {
	enum ssmf_acts_kind kind;
	int max_B, max_T;
	int B, T;
	int n_threads;
	ssmf_real *buf;
	size_t buf_len;
	struct ssmf_wt wt;
	ssmf_real *wt_buf;
	/* inputs of the last forward */
	struct ssmf_record *rec; /* (B,T) copy */
	int *len;                /* (B) */
	int8_t *label;           /* (B) */
	double sup_weight;
	long n_pred;
	long n_lab;
	ssmf_real *feat; /* (B,T,F) */
	ssmf_real *gdt;  /* (B,T) gap term of DT */
	struct ssmf_layer_acts layer[SSMF_MAX_LAYERS];
	ssmf_real *res_f;      /* (B,T,D) residual after the last layer */
	ssmf_real *rstd_f;     /* (B,T) */
	ssmf_real *hidden;     /* (B,T,D) final normalised hidden */
	ssmf_real *logits;     /* (B,T,NL) */
	ssmf_real *nll;        /* (B,T,NC) */
	ssmf_real *score;      /* (B) */
	ssmf_real *score_comp; /* (B,NC) */
	ssmf_real *pooled;     /* (B,D) */
	ssmf_real *cls;        /* (B) */
	/* gradients of activations: d_res, d_hidden and d_logits for the batch; the rest,
	 * per flow, in a per-thread scratch of T rows (gscratch) that stays in cache from
	 * flow to flow, or, in SSMF_ACTS_KEEP, in batch-sized buffers (keep; NULL
	 * otherwise), where comparisons read them */
	struct ssmf_flow_grads keep;
	/* the losses' denominators when this batch is part of a larger one (0: its own) */
	long norm_pred;
	int norm_lab;
	/* ssmf_forward_backward: one single-flow acts per thread and SSMF_WGROUPS copies of
	 * the gradients, made on first use */
	struct ssmf_acts **fb_acts;
	ssmf_real *fb_grads;
	int inferred;        /* the last call was ssmf_infer: no activations for a backward */
	ssmf_real *gscratch; /* (n_threads, gscratch_stride) */
	size_t gscratch_stride;
	ssmf_real *d_res;    /* (B,T,D) */
	ssmf_real *d_hidden; /* (B,T,D) */
	ssmf_real *d_logits; /* (B,T,NL) */
	ssmf_real *part;     /* (B, part_stride): per-flow partial sums of small gradients */
	ssmf_real *scan_ws;  /* (n_threads, T+1, N, P) scan state history */
	ssmf_real *wpart;    /* (SSMF_WGROUPS, D DI + DP D) per-group out_proj, in_proj grads */
	size_t part_stride;
	size_t scan_ws_stride;
};

/* acts.c: activations of a kind for batches of up to max_B x max_T, for n_threads */
struct ssmf_acts *ssmf_acts_make(const struct ssmf_model *m, int max_B, int max_T,
                                 enum ssmf_acts_kind kind, int n_threads, char *err, size_t errlen);
/* flow b's rows of acts->keep (SSMF_ACTS_KEEP) */
void flow_grads_batch(struct ssmf_flow_grads *g, const struct ssmf_acts *a,
                      const struct ssmf_dims *d, int b);
/* where the backward writes flow b's per-row gradients: its rows of acts->keep, or this
 * thread's scratch (rows 0..T-1) */
void flow_grads_rows(struct ssmf_flow_grads *g, const struct ssmf_acts *a,
                     const struct ssmf_dims *d, int b);
/* As ssmf_acts_new, keeping every flow's per-row gradients of the last layer the backward
 * went through (layer 0) in the batch-sized buffers, for comparisons that read them
 * (cuda/check.c, the gradient checks). */
struct ssmf_acts *ssmf_acts_new_keep(const struct ssmf_model *m, int max_B, int max_T, char *err,
                                     size_t errlen);

/* ---- ops (one file each) ---- */

/* input.c: each feature's field, looked up by name in the record's field table; -1 with a
 * message when the normalisation table names a field that is not an unsigned scalar of at
 * most 32 bits */
int input_fields_resolve(struct ssmf_input_fields *in, char *err, size_t errlen);
/* feat (F), *gdt of one record */
void input_normalise(const struct ssmf_input_fields *in, const struct ssmf_record *r,
                     ssmf_real *feat, ssmf_real *gdt);
/* feat (B,T,F), gdt (B,T) from rec (B,T); rows t >= len[b] are zero. */
void input_forward(const struct ssmf_input_fields *in, ssmf_real *feat, ssmf_real *gdt,
                   const struct ssmf_record *rec, const int *len, int B, int T);

/* linear.c: out (R,O) = inp (R,I) . w^T [+ bias (O)], given wp = linear_pack(w): w^T in
 * panels of 64 output columns, each (I, 64) and zero-padded, so the GEMM streams B. */
void linear_forward(ssmf_real *out, const ssmf_real *inp, const ssmf_real *wp,
                    const ssmf_real *bias, int R, int I, int O);
/* the same on the calling thread only (sequence mode runs it per flow) */
void linear_rows(ssmf_real *out, const ssmf_real *inp, const ssmf_real *wp, const ssmf_real *bias,
                 int R, int I, int O);
size_t linear_packed_size(int O, int I);
void linear_pack(ssmf_real *wp, const ssmf_real *w, int O, int I);
/* the two below on the calling thread only */
void linear_backward_input_rows(ssmf_real *dinp, const ssmf_real *dout, const ssmf_real *w, int R,
                                int I, int O, int set); /* set: write dinp, not add */
void linear_backward_weight_rows(ssmf_real *dw, const ssmf_real *dout, const ssmf_real *inp, int R,
                                 int I, int O);
/* dinp (R,I) += dout (R,O) . w ; dinp may be NULL */
void linear_backward_input(ssmf_real *dinp, const ssmf_real *dout, const ssmf_real *w, int R, int I,
                           int O);
/* dw (O,I) += dout^T . inp ; dbias (O) += sum_r dout (dbias may be NULL) */
void linear_backward_weight(ssmf_real *dw, ssmf_real *dbias, const ssmf_real *dout,
                            const ssmf_real *inp, int R, int I, int O);

/* rmsnorm.c: out (R,C) = x * rstd * w, rstd (R) written */
void rmsnorm_forward(ssmf_real *out, ssmf_real *rstd, const ssmf_real *x, const ssmf_real *w, int R,
                     int C);
void rmsnorm_rows(ssmf_real *out, ssmf_real *rstd, const ssmf_real *x, const ssmf_real *w, int R,
                  int C); /* calling thread only */
/* the rows' dx (R,C) +=; pw (C) written with their share of d w; calling thread only */
void rmsnorm_backward_rows(ssmf_real *dx, ssmf_real *pw, const ssmf_real *dout, const ssmf_real *x,
                           const ssmf_real *rstd, const ssmf_real *w, int R, int C);
/* dx (R,C) +=, dw (C) += (via part (G, C) per group of R/G rows, summed in order) */
void rmsnorm_backward(ssmf_real *dx, ssmf_real *dw, ssmf_real *part, const ssmf_real *dout,
                      const ssmf_real *x, const ssmf_real *rstd, const ssmf_real *w, int R, int C,
                      int G);

/* mixer_prep.c: per (b,t) from proj: DT, A, alpha, lam (B,T,H); bn, cn (B,T,N) */
void prep_row(ssmf_real *DT, ssmf_real *A, ssmf_real *alpha, ssmf_real *lam, ssmf_real *bn,
              ssmf_real *cn, ssmf_real *rstd_b, ssmf_real *rstd_c, const ssmf_real *proj,
              ssmf_real gdt, const struct ssmf_layer_params *p, const struct ssmf_dims *d);
/* rows [r0, r0 + R) on the calling thread (sequence mode, per flow) */
void prep_rows(struct ssmf_layer_acts *la, const ssmf_real *gdt, const struct ssmf_layer_params *p,
               const struct ssmf_dims *d, size_t r0, int R);
/* kernels_notrap.c: their AVX2 copies (prep_row and prep_rows call them on such a CPU) */
void prep_row_v3(ssmf_real *DT, ssmf_real *A, ssmf_real *alpha, ssmf_real *lam, ssmf_real *bn,
                 ssmf_real *cn, ssmf_real *rstd_b, ssmf_real *rstd_c, const ssmf_real *proj,
                 ssmf_real gdt, const struct ssmf_layer_params *p, const struct ssmf_dims *d);
void prep_rows_v3(struct ssmf_layer_acts *la, const ssmf_real *gdt,
                  const struct ssmf_layer_params *p, const struct ssmf_dims *d, size_t r0, int R);
/* Flow b, from its rows of d_dt, d_alpha, d_lam (T,H), d_bn_h, d_cn_h (T,H,N), d_th_h
 * (T,H,NA): writes (not adds to) the dt/a/lam/B/C/theta columns of d_proj for t < len and
 * part[b]'s first 3H + 4N entries; then the sum of the parameter grads over flows */
void prep_backward_flow(struct ssmf_acts *a, const struct ssmf_flow_grads *g,
                        const struct ssmf_layer_acts *la, const struct ssmf_layer_params *p,
                        const struct ssmf_dims *d, int b);
void prep_backward_reduce(const struct ssmf_acts *a, struct ssmf_layer_params *g,
                          const struct ssmf_dims *d);

/* mixer_rotary.c: phi (B,T,H,NA) = cumsum_t(DT theta); k, q (B,T,H,N) = R(phi) bn, cn */
void rotary_row(ssmf_real *phi, ssmf_real *k, ssmf_real *q, const ssmf_real *bn,
                const ssmf_real *cn, const ssmf_real *theta, ssmf_real dtv, int NA);
void rotary_forward_bh(struct ssmf_layer_acts *la, const struct ssmf_dims *d, int b, int h, int len,
                       int T);
/* the same for all heads of flow b */
void rotary_forward_flow(struct ssmf_layer_acts *la, const struct ssmf_dims *d, int b, int len,
                         int T);
/* writes d_bn_h, d_cn_h, d_th_h for (b,h); adds into d_dt */
void rotary_backward_flow(const struct ssmf_flow_grads *g, const struct ssmf_layer_acts *la,
                          const struct ssmf_dims *d, int b, int len, int T);
void rotary_backward_bh(const struct ssmf_flow_grads *g, const struct ssmf_layer_acts *la,
                        const struct ssmf_dims *d, int b, int h, int len, int T);

/* mixer_scan.c: the exponential-trapezoidal recurrence for flow b, head h, channels [p0,p1).
 * S (N, P) is state scratch (only columns p0..p1-1 used); hist, when not NULL, receives the
 * state after every step: (len, N, P). */
void scan_forward_bhp(ssmf_real *y, ssmf_real *S, ssmf_real *hist, const struct ssmf_layer_acts *la,
                      const ssmf_real *Dskip, const struct ssmf_dims *d, int b, int h, int p0,
                      int p1, int len, int T);
/* Backward for (b,h), channels [p0,p1): uses hist from a forward recompute; adds into d_proj
 * (x columns), d_k, d_q, d_dt, d_alpha, d_lam, dD (one value per (b,h)). */
void scan_backward_bhp(const struct ssmf_flow_grads *g, const struct ssmf_layer_acts *la,
                       const ssmf_real *hist, const ssmf_real *Dskip, ssmf_real *dD,
                       const struct ssmf_dims *d, int b, int h, int p0, int p1, int len, int T);

/* Recompute + backward for (b,h), all channels: the 16 x 16 fast path or the two above.
 * ws holds (T + 1) N P reals. */
void scan_backward_bh(const struct ssmf_flow_grads *g, const struct ssmf_layer_acts *la,
                      ssmf_real *ws, const ssmf_real *Dskip, ssmf_real *dD,
                      const struct ssmf_dims *d, int b, int h, int len, int T);

/* 1 when scan_backward_bh writes (rather than adds to) d_k, d_q, d_alpha, d_lam, d_dt and
 * d_proj's x part for t < len (the rotary backward then adds to d_dt) */
int scan_backward_writes_dkq(const struct ssmf_dims *d);

/* mixer_gate.c: yg = y * silu(z) over (B,T,DI); z in proj */
void gate_forward(ssmf_real *yg, const ssmf_real *y, const ssmf_real *proj,
                  const struct ssmf_dims *d, int BT);
void gate_rows(ssmf_real *yg, const ssmf_real *y, const ssmf_real *proj, const struct ssmf_dims *d,
               int R);
/* kernels_notrap.c: the AVX2 copies, where they vectorise (the SSMF_HOT functions call them on
 * such a CPU) */
void gate_rows_v3(ssmf_real *restrict yg, const ssmf_real *restrict y,
                  const ssmf_real *restrict proj, const struct ssmf_dims *d,
                  int R); /* calling thread only */
/* writes dy and d_proj's z columns (not added to); calling thread only */
void gate_backward_rows(ssmf_real *dy, ssmf_real *dproj, const ssmf_real *dyg, const ssmf_real *y,
                        const ssmf_real *proj, const struct ssmf_dims *d, int R);
void gate_backward_rows_v3(ssmf_real *dy, ssmf_real *dproj, const ssmf_real *dyg,
                           const ssmf_real *y, const ssmf_real *proj, const struct ssmf_dims *d,
                           int R);

/* heads.c */
void heads_loss_forward(struct ssmf_acts *a);
void heads_loss_backward(struct ssmf_acts *a); /* writes d_logits */
void cls_forward(struct ssmf_acts *a, const struct ssmf_params *p, int D);
double cls_loss(const struct ssmf_acts *a);
/* adds into d_hidden and cls grads */
void cls_backward(struct ssmf_acts *a, const struct ssmf_params *p, struct ssmf_params *g, int D);

/* step.c: floats of one head's state in a flow's step state (phase, previous k and v, S) */
size_t ssmf_step_head_state(const struct ssmf_dims *d);

/* carry.c: ssmf_infer's forward of flow fb (a batch of one) in single-flow activations a when
 * the batch carries states: from *state (step mode's layout), which receives the state after
 * the flow's last packet. Fills a's nll (the first packet's from the state's pending
 * prediction, when it has one), logits, score and score_comp (over the packets predicted);
 * cls is 0. */
void forward_flow_carry(const struct ssmf_model *m, struct ssmf_acts *a,
                        const struct ssmf_batch *fb, ssmf_real *state);

/* threads.c */
int ssmf_threads(void);
/* The clone level SSMF_HOT's resolver picks on this CPU: 4 (x86-64-v4), 3 (x86-64-v3),
 * 1 (baseline); 0 without clones; at most the cap of ssmf_cap_kernels. Hand-written
 * per-width kernels dispatch on it. */
int ssmf_cpu_level(void);
int ssmf_thread_id(void);

#endif
