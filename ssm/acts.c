/* acts.c - the activations of sequence mode: what each of the three kinds holds and where.
 *
 *   SSMF_ACTS_TRAIN  every forward activation, the batch's d_res/d_hidden/d_logits, and the
 *                    per-row gradients of one flow at a time in a per-thread scratch
 *                    (ssmf_acts_new: training, and the single-flow acts of
 *                    ssmf_forward_backward and ssmf_infer)
 *   SSMF_ACTS_KEEP   the same with the per-row gradients batch-sized (acts->keep), so that a
 *                    comparison can read every flow's (ssmf_acts_new_keep: cuda/check.c and
 *                    the gradient checks)
 *   SSMF_ACTS_INFER  the batch's outputs and the packed weights only; the flows run in
 *                    single-flow acts made on first use (ssmf_acts_new_infer: scoring)
 *
 * Calls model.c (the packed weights' size) and nothing else of the model: the forward and
 * backward (sequence.c) call here, never the other way round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/internal.h"

/* The arrays of a struct ssmf_flow_grads and their widths in floats per row. */
#define FG_N 12
static void flow_grads_table(struct ssmf_flow_grads *g, const struct ssmf_dims *d,
                             ssmf_real **p[FG_N], size_t w[FG_N])
{
	size_t H = d->H, HN = (size_t)d->H * d->N;
	ssmf_real **pp[FG_N] = {&g->d_xn, &g->d_proj, &g->d_dt,   &g->d_alpha, &g->d_lam, &g->d_k,
	                        &g->d_q,  &g->d_bn_h, &g->d_cn_h, &g->d_th_h,  &g->d_y,   &g->d_yg};
	size_t ww[FG_N] = {d->D, d->DP, H, H, H, HN, HN, HN, HN, H * d->NA, d->DI, d->DI};
	memcpy(p, pp, sizeof pp);
	memcpy(w, ww, sizeof ww);
}

/* Carves g's arrays, rows rows each, from base (or, with base NULL, measures them); returns
 * the floats taken (each array 64-byte aligned). */
static size_t flow_grads_carve(struct ssmf_flow_grads *g, ssmf_real *base,
                               const struct ssmf_dims *d, size_t rows)
{
	ssmf_real **p[FG_N];
	size_t w[FG_N], off = 0;
	flow_grads_table(g, d, p, w);
	for (int i = 0; i < FG_N; i++) {
		if (base)
			*p[i] = base + off;
		off += (rows * w[i] + 15) & ~(size_t)15;
	}
	return off;
}

void flow_grads_batch(struct ssmf_flow_grads *g, const struct ssmf_acts *a,
                      const struct ssmf_dims *d, int b)
{
	struct ssmf_flow_grads k = a->keep;
	ssmf_real **pg[FG_N], **pk[FG_N];
	size_t w[FG_N];
	flow_grads_table(g, d, pg, w);
	flow_grads_table(&k, d, pk, w);
	for (int i = 0; i < FG_N; i++)
		*pg[i] = *pk[i] + (size_t)b * a->T * w[i];
}

/* flow b's per-row gradients: its rows of acts->keep (SSMF_ACTS_KEEP), or this thread's
 * scratch, where rows 0..T-1 are the flow's (SSMF_ACTS_TRAIN) */
void flow_grads_rows(struct ssmf_flow_grads *g, const struct ssmf_acts *a,
                     const struct ssmf_dims *d, int b)
{
	if (a->kind == SSMF_ACTS_KEEP)
		flow_grads_batch(g, a, d, b);
	else
		flow_grads_carve(g, a->gscratch + (size_t)ssmf_thread_id() * a->gscratch_stride, d,
		                 (size_t)a->max_T);
}

/* Lays out (or, with base NULL, measures) the activation buffer. */
static size_t acts_layout(struct ssmf_acts *a, const struct ssmf_dims *d, ssmf_real *base)
{
	size_t BT = (size_t)a->max_B * a->max_T, B = (size_t)a->max_B, off = 0;
	size_t H = d->H, N = d->N, NA = d->NA;
#define TAKE(dst, n)                                                                               \
	do {                                                                                       \
		if (base)                                                                          \
			(dst) = base + off;                                                        \
		off += (((size_t)(n)) + 15) & ~(size_t)15; /* 64-byte aligned for floats */        \
	} while (0)
	if (a->kind ==
	    SSMF_ACTS_INFER) { /* the outputs and the packed weights; flows run in fb_acts */
		TAKE(a->logits, BT * SSMF_N_LOGITS);
		TAKE(a->nll, BT * SSMF_N_COMP);
		TAKE(a->score, B);
		TAKE(a->score_comp, B * SSMF_N_COMP);
		TAKE(a->cls, B);
		TAKE(a->wt_buf, ssmf_wt_size(d));
		return off;
	}
	TAKE(a->feat, BT * d->F);
	TAKE(a->gdt, BT);
	for (int l = 0; l < d->L; l++) {
		struct ssmf_layer_acts *la = &a->layer[l];
		TAKE(la->res, BT * d->D);
		TAKE(la->rstd, BT);
		TAKE(la->xn, BT * d->D);
		TAKE(la->proj, BT * d->DP);
		TAKE(la->dt, BT * H);
		TAKE(la->A, BT * H);
		TAKE(la->alpha, BT * H);
		TAKE(la->lam, BT * H);
		TAKE(la->bn, BT * N);
		TAKE(la->cn, BT * N);
		TAKE(la->rstd_b, BT);
		TAKE(la->rstd_c, BT);
		TAKE(la->phi, BT * H * NA);
		TAKE(la->k, BT * H * N);
		TAKE(la->q, BT * H * N);
		TAKE(la->y, BT * d->DI);
		TAKE(la->yg, BT * d->DI);
	}
	TAKE(a->res_f, BT * d->D);
	TAKE(a->rstd_f, BT);
	TAKE(a->hidden, BT * d->D);
	TAKE(a->logits, BT * SSMF_N_LOGITS);
	TAKE(a->nll, BT * SSMF_N_COMP);
	TAKE(a->score, B);
	TAKE(a->score_comp, B * SSMF_N_COMP);
	TAKE(a->pooled, B * d->D);
	TAKE(a->cls, B);
	TAKE(a->d_res, BT * d->D);
	if (a->kind == SSMF_ACTS_KEEP) {
		off += flow_grads_carve(&a->keep, base ? base + off : NULL, d, BT);
	} else {
		a->gscratch_stride =
		    flow_grads_carve(&(struct ssmf_flow_grads){0}, NULL, d, (size_t)a->max_T);
		TAKE(a->gscratch, (size_t)a->n_threads * a->gscratch_stride);
	}
	TAKE(a->d_hidden, BT * d->D);
	TAKE(a->d_logits, BT * SSMF_N_LOGITS);
	/* per flow: prep's 3H + 4N partials, D's H, the layer norm's D */
	a->part_stride = ((size_t)(4 * H + 4 * N + d->D) + 15) & ~(size_t)15;
	TAKE(a->part, B * a->part_stride);
	a->scan_ws_stride = (((size_t)a->max_T + 1) * N * d->P + 15) & ~(size_t)15;
	TAKE(a->scan_ws, (size_t)a->n_threads * a->scan_ws_stride);
	TAKE(a->wt_buf, ssmf_wt_size(d));
	TAKE(a->wpart, (size_t)SSMF_WGROUPS * ((size_t)d->D * d->DI + (size_t)d->DP * d->D));
#undef TAKE
	return off;
}

struct ssmf_acts *ssmf_acts_make(const struct ssmf_model *m, int max_B, int max_T,
                                 enum ssmf_acts_kind kind, int n_threads, char *err, size_t errlen)
{
	if (max_B < 1 || max_T < 1 || (long)max_B * max_T > (1L << 28)) {
		snprintf(err, errlen, "batch shape %d x %d out of range", max_B, max_T);
		return NULL;
	}
	struct ssmf_acts *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->max_B = max_B;
	a->max_T = max_T;
	a->kind = kind;
	a->n_threads = n_threads;
	a->buf_len = acts_layout(a, &m->d, NULL);
	/* C11 aligned_alloc: the size must be a multiple of the alignment */
	a->buf = aligned_alloc(64, (a->buf_len * sizeof(ssmf_real) + 63) & ~(size_t)63);
	a->rec = calloc((size_t)max_B * max_T, sizeof *a->rec);
	a->len = calloc((size_t)max_B, sizeof *a->len);
	a->label = calloc((size_t)max_B, sizeof *a->label);
	if (!a->buf || !a->rec || !a->len || !a->label) {
		snprintf(err, errlen, "out of memory for activations (%zu MiB)",
		         a->buf_len * sizeof(ssmf_real) >> 20);
		ssmf_acts_free(a);
		return NULL;
	}
	memset(a->buf, 0, a->buf_len * sizeof(ssmf_real));
	acts_layout(a, &m->d, a->buf);
	return a;
}

struct ssmf_acts *ssmf_acts_new(const struct ssmf_model *m, int max_B, int max_T, char *err,
                                size_t errlen)
{
	return ssmf_acts_make(m, max_B, max_T, SSMF_ACTS_TRAIN, ssmf_threads(), err, errlen);
}

struct ssmf_acts *ssmf_acts_new_infer(const struct ssmf_model *m, int max_B, int max_T, char *err,
                                      size_t errlen)
{
	return ssmf_acts_make(m, max_B, max_T, SSMF_ACTS_INFER, ssmf_threads(), err, errlen);
}

struct ssmf_acts *ssmf_acts_new_keep(const struct ssmf_model *m, int max_B, int max_T, char *err,
                                     size_t errlen)
{
	return ssmf_acts_make(m, max_B, max_T, SSMF_ACTS_KEEP, ssmf_threads(), err, errlen);
}

void ssmf_acts_free(struct ssmf_acts *a)
{
	if (!a)
		return;
	for (int t = 0; a->fb_acts && t < a->n_threads; t++)
		ssmf_acts_free(a->fb_acts[t]);
	free(a->fb_acts);
	free(a->fb_grads);
	free(a->buf);
	free(a->rec);
	free(a->len);
	free(a->label);
	free(a);
}
