/* sequence.c - sequence mode: forward and backward over a batch of whole flows, the
 * flow-by-flow training step (ssmf_forward_backward) and inference (ssmf_infer).
 *
 * Calls, one way: sequence.c -> acts.c (the activations' kinds and per-flow gradient rows)
 * -> model.c (packed weights) -> params.c (the parameter pointers), and the ops (input.c,
 * linear.c, rmsnorm.c, mixer_*.c, heads.c), which call none of these back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/internal.h"

/* One layer over one flow's T rows, every op in turn while the rows are in cache. The row
 * functions are those of step mode, so both modes do the same arithmetic. */
static void layer_forward_flow(const struct ssmf_model *m, struct ssmf_acts *a, int l, int b,
                               ssmf_real *S)
{
	const struct ssmf_dims *d = &m->d;
	struct ssmf_layer_acts *la = &a->layer[l];
	const struct ssmf_layer_params *lp = &m->p.layer[l];
	int T = a->T, D = d->D, H = d->H;
	size_t r0 = (size_t)b * T;
	rmsnorm_rows(la->xn + r0 * D, la->rstd + r0, la->res + r0 * D, lp->norm_w, T, D);
	linear_rows(la->proj + r0 * d->DP, la->xn + r0 * D, a->wt.in_proj[l], NULL, T, D, d->DP);
	prep_rows(la, a->gdt, lp, d, r0, T);
	rotary_forward_flow(la, d, b, a->len[b], T);
	for (int h = 0; h < H; h++)
		scan_forward_bhp(la->y, S, NULL, la, lp->Dskip, d, b, h, 0, d->P, a->len[b], T);
	gate_rows(la->yg + r0 * d->DI, la->y + r0 * d->DI, la->proj + r0 * d->DP, d, T);
	ssmf_real *next = (l + 1 < d->L ? a->layer[l + 1].res : a->res_f) + r0 * D;
	linear_rows(next, la->yg + r0 * d->DI, a->wt.out_proj[l], NULL, T, d->DI, D);
	const ssmf_real *res = la->res + r0 * D;
	for (size_t i = 0; i < (size_t)T * D; i++)
		next[i] += res[i];
}

/* The checks every entry point makes of a batch: its shape against the activations', the
 * thread count they were made for, each flow's length, and (training: forward, backward
 * to follow) that they are not inference-only. */
static int batch_check(const struct ssmf_acts *a, const struct ssmf_batch *batch, int training,
                       char *err, size_t errlen)
{
	int B = batch->B, T = batch->T, nt = ssmf_threads();
	if (B < 1 || T < 1 || B > a->max_B || T > a->max_T) {
		snprintf(err, errlen, "batch %d x %d exceeds the activations' %d x %d", B, T,
		         a->max_B, a->max_T);
		return -1;
	}
	if (a->n_threads < nt) {
		snprintf(err, errlen, "activations were sized for %d threads, now %d", a->n_threads,
		         nt);
		return -1;
	}
	if (training && batch->state) {
		snprintf(err, errlen, "a batch with initial states serves ssmf_infer only");
		return -1;
	}
	if (training && a->kind == SSMF_ACTS_INFER) {
		snprintf(err, errlen, "activations made for inference serve ssmf_infer only");
		return -1;
	}
	for (int b = 0; b < B; b++)
		if (batch->len[b] < 0 || batch->len[b] > T) {
			snprintf(err, errlen, "flow %d has length %d outside 0..%d", b,
			         batch->len[b], T);
			return -1;
		}
	return 0;
}

/* Takes a checked batch's shape, lengths and labels into a. */
static void batch_take(struct ssmf_acts *a, const struct ssmf_batch *batch)
{
	a->B = batch->B;
	a->T = batch->T;
	a->n_lab = 0;
	for (int b = 0; b < batch->B; b++) {
		a->len[b] = batch->len[b];
		a->label[b] = batch->label ? batch->label[b] : -1;
		if (a->label[b] == 0 || a->label[b] == 1)
			a->n_lab++;
	}
	a->sup_weight = batch->sup_weight;
}

/* The losses from the flows' scores and cls logits, and the output pointers. */
static void outputs_fill(const struct ssmf_acts *a, struct ssmf_outputs *out)
{
	double sum = 0;
	for (int b = 0; b < a->B; b++) {
		int np = a->len[b] > 1 ? a->len[b] - 1 : 0;
		sum += (double)a->score[b] * np;
	}
	out->n_pred = a->n_pred;
	long n_pred = a->norm_pred ? a->norm_pred : a->n_pred;
	out->loss_next = n_pred ? sum / (double)n_pred : 0.0;
	out->loss_sup = cls_loss(a);
	out->loss = out->loss_next + a->sup_weight * out->loss_sup;
	out->nll = a->nll;
	out->score = a->score;
	out->score_comp = a->score_comp;
	out->logits = a->logits;
	out->cls_logit = a->cls;
}

/* ssmf_forward; with pack 0, a->wt already holds the packed weights. */
static int forward(const struct ssmf_model *m, struct ssmf_acts *a, const struct ssmf_batch *batch,
                   struct ssmf_outputs *out, int pack, char *err, size_t errlen)
{
	const struct ssmf_dims *d = &m->d;
	int B = batch->B, T = batch->T;
	if (batch_check(a, batch, 1, err, errlen) < 0)
		return -1;
	batch_take(a, batch);
	a->inferred = 0;
	memcpy(a->rec, batch->rec, (size_t)B * T * sizeof *a->rec);

	int BT = B * T, D = d->D;
	if (pack)
		ssmf_wt_build(&a->wt, a->wt_buf, m);
	input_forward(&m->input, a->feat, a->gdt, a->rec, a->len, B, T);
	linear_forward(a->layer[0].res, a->feat, a->wt.embed, m->p.embed_b, BT, d->F, D);
#pragma omp parallel for schedule(dynamic, 1) num_threads(ssmf_threads())
	for (int b = 0; b < B; b++) {
		ssmf_real *S = a->scan_ws + (size_t)ssmf_thread_id() * a->scan_ws_stride;
		for (int l = 0; l < d->L; l++)
			layer_forward_flow(m, a, l, b, S);
	}
	rmsnorm_forward(a->hidden, a->rstd_f, a->res_f, m->p.normf_w, BT, D);
	linear_forward(a->logits, a->hidden, a->wt.head, m->p.head_b, BT, D, SSMF_N_LOGITS);
	heads_loss_forward(a);
	cls_forward(a, &m->p, D);

	outputs_fill(a, out);
	return 0;
}

int ssmf_forward(struct ssmf_model *m, struct ssmf_acts *a, const struct ssmf_batch *batch,
                 struct ssmf_outputs *out, char *err, size_t errlen)
{
	return forward(m, a, batch, out, 1, err, errlen);
}

/* One layer's backward over one flow's T rows: out_proj, gate, scan, rotary, prep, in_proj,
 * norm. d_res rows come in as the gradient at the layer's output and leave as the gradient at
 * its input. gout, gin: this flow's group partials of the out_proj and in_proj gradients. */
static void layer_backward_flow(const struct ssmf_model *m, struct ssmf_acts *a, int l, int b,
                                ssmf_real *ws, ssmf_real *gout, ssmf_real *gin, size_t pskip,
                                size_t pnorm)
{
	const struct ssmf_dims *d = &m->d;
	const struct ssmf_layer_acts *la = &a->layer[l];
	const struct ssmf_layer_params *lp = &m->p.layer[l];
	int T = a->T, D = d->D, H = d->H, N = d->N;
	size_t r0 = (size_t)b * T;
	ssmf_real *part = a->part + (size_t)b * a->part_stride;
	struct ssmf_flow_grads g;
	flow_grads_rows(&g, a, d, b);
	ssmf_real *d_res = a->d_res + r0 * D, *d_yg = g.d_yg, *d_proj = g.d_proj, *d_xn = g.d_xn;

	linear_backward_input_rows(d_yg, d_res, lp->out_proj, T, d->DI, D, 1);
	linear_backward_weight_rows(gout, d_res, la->yg + r0 * d->DI, T, d->DI, D);

	/* d_proj's rows are written by gate (z), scan (x) and prep (the rest) for the flow's
	 * packets; the padding rows past them, which the in_proj backward reads, are zero */
	int len = a->len[b];
	memset(d_proj + (size_t)len * d->DP, 0, (size_t)(T - len) * d->DP * sizeof(ssmf_real));
	gate_backward_rows(g.d_y, d_proj, d_yg, la->y + r0 * d->DI, la->proj + r0 * d->DP, d, T);
	/* d_bn_h, d_cn_h and d_th_h are written by the rotary backward */
	if (!scan_backward_writes_dkq(d)) { /* the general scan adds to these */
		for (int t = 0; t < len; t++)
			memset(d_proj + (size_t)t * d->DP + d->O_X, 0,
			       (size_t)d->DI * sizeof(ssmf_real));
		memset(g.d_dt, 0, (size_t)T * H * sizeof(ssmf_real));
		memset(g.d_alpha, 0, (size_t)T * H * sizeof(ssmf_real));
		memset(g.d_lam, 0, (size_t)T * H * sizeof(ssmf_real));
		memset(g.d_k, 0, (size_t)T * H * N * sizeof(ssmf_real));
		memset(g.d_q, 0, (size_t)T * H * N * sizeof(ssmf_real));
	}
	for (int h = 0; h < H; h++) {
		part[pskip + h] = 0;
		scan_backward_bh(&g, la, ws, lp->Dskip, part + pskip + h, d, b, h, len, T);
	}
	rotary_backward_flow(&g, la, d, b, len, T);
	prep_backward_flow(a, &g, la, lp, d, b);

	linear_backward_input_rows(d_xn, d_proj, lp->in_proj, T, D, d->DP, 1);
	linear_backward_weight_rows(gin, d_proj, la->xn + r0 * D, T, D, d->DP);
	rmsnorm_backward_rows(d_res, part + pnorm, d_xn, la->res + r0 * D, la->rstd + r0,
	                      lp->norm_w, T, D);
}

/* dst[i] += src[g * stride + i] over the groups g in order, for i < n: the same order for
 * each element whatever the threads, which split the elements. */
static void sum_groups(ssmf_real *dst, const ssmf_real *src, size_t stride, size_t n, int ng)
{
	size_t step = 4096;
#pragma omp parallel for schedule(static) num_threads(ssmf_threads())
	for (size_t i0 = 0; i0 < n; i0 += step) {
		size_t i1 = i0 + step < n ? i0 + step : n;
		for (int g = 0; g < ng; g++)
			for (size_t i = i0; i < i1; i++)
				dst[i] += src[(size_t)g * stride + i];
	}
}

int ssmf_backward(struct ssmf_model *m, struct ssmf_acts *a, char *err, size_t errlen)
{
	const struct ssmf_dims *d = &m->d;
	int B = a->B, T = a->T, BT = B * T, D = d->D, H = d->H, N = d->N;
	if (B < 1 || a->inferred) {
		snprintf(err, errlen, "backward without a forward");
		return -1;
	}
	heads_loss_backward(a);
	memset(a->d_hidden, 0, (size_t)BT * D * sizeof(ssmf_real));
	linear_backward_input(a->d_hidden, a->d_logits, m->p.head_w, BT, D, SSMF_N_LOGITS);
	linear_backward_weight(m->g.head_w, m->g.head_b, a->d_logits, a->hidden, BT, D,
	                       SSMF_N_LOGITS);
	cls_backward(a, &m->p, &m->g, D);
	memset(a->d_res, 0, (size_t)BT * D * sizeof(ssmf_real));
	rmsnorm_backward(a->d_res, m->g.normf_w, a->part, a->d_hidden, a->res_f, a->rstd_f,
	                 m->p.normf_w, BT, D, B);
	size_t wo = (size_t)d->D * d->DI, wi = (size_t)d->DP * d->D; /* per-group partials */
	size_t pskip = (size_t)3 * H + 4 * N, pnorm = pskip + H;     /* offsets in part[b] */
	int ng = B < SSMF_WGROUPS ? B : SSMF_WGROUPS;
	for (int l = d->L - 1; l >= 0; l--) {
		struct ssmf_layer_params *lg = &m->g.layer[l];
		/* the whole layer backward flow by flow, each op in turn while the flow's rows
		 * are in cache; weight gradients into the group's partial */
#pragma omp parallel for schedule(dynamic, 1) num_threads(ssmf_threads())
		for (int g = 0; g < ng; g++) {
			ssmf_real *ws = a->scan_ws + (size_t)ssmf_thread_id() * a->scan_ws_stride;
			ssmf_real *gout = a->wpart + (size_t)g * (wo + wi), *gin = gout + wo;
			memset(gout, 0, (wo + wi) * sizeof(ssmf_real));
			for (int b = g * B / ng; b < (g + 1) * B / ng; b++)
				layer_backward_flow(m, a, l, b, ws, gout, gin, pskip, pnorm);
		}
		sum_groups(lg->out_proj, a->wpart, wo + wi, wo, ng);
		sum_groups(lg->in_proj, a->wpart + wo, wo + wi, wi, ng);
		for (int b = 0; b < B; b++) {
			const ssmf_real *part = a->part + (size_t)b * a->part_stride;
			for (int h = 0; h < H; h++)
				lg->Dskip[h] += part[pskip + h];
			for (int c = 0; c < D; c++)
				lg->norm_w[c] += part[pnorm + c];
		}
		prep_backward_reduce(a, lg, d);
	}
	linear_backward_weight(m->g.embed_w, m->g.embed_b, a->d_res, a->feat, BT, d->F, D);
	return 0;
}

/* Flow b of a batch as a batch of one. */
static struct ssmf_batch flow_batch(const struct ssmf_batch *batch, int b)
{
	struct ssmf_batch fb = *batch;
	fb.rec = batch->rec + (size_t)b * batch->T;
	fb.len = batch->len + b;
	fb.label = batch->label ? batch->label + b : NULL;
	fb.B = 1;
	return fb;
}

/* Makes ssmf_forward_backward's single-flow activations (one per thread) and group gradients
 * on first use. */
static int fb_prepare(const struct ssmf_model *m, struct ssmf_acts *a, int nt, int grads, char *err,
                      size_t errlen)
{
	if (grads && !a->fb_grads) {
		size_t bytes = (size_t)SSMF_WGROUPS * m->n_params * sizeof(ssmf_real);
		a->fb_grads = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	}
	if (!a->fb_acts)
		a->fb_acts = calloc((size_t)a->n_threads, sizeof *a->fb_acts);
	if ((grads && !a->fb_grads) || !a->fb_acts) {
		snprintf(err, errlen, "out of memory for the training step");
		return -1;
	}
	for (int t = 0; t < nt; t++)
		if (!a->fb_acts[t] && !(a->fb_acts[t] = ssmf_acts_make(
		                            m, 1, a->max_T, SSMF_ACTS_TRAIN, 1, err, errlen)))
			return -1;
	return 0;
}

int ssmf_grad_groups(int B)
{
	return B < SSMF_WGROUPS ? B : SSMF_WGROUPS;
}

int ssmf_forward_backward_groups(struct ssmf_model *m, struct ssmf_acts *a,
                                 const struct ssmf_batch *batch, int g0, int g1, double *loss_next,
                                 double *loss_sup, char *err, size_t errlen)
{
	int B = batch->B, nt = ssmf_threads();
	if (batch_check(a, batch, 1, err, errlen) < 0 || fb_prepare(m, a, nt, 1, err, errlen) < 0)
		return -1;
	int ng = ssmf_grad_groups(B);
	if (g0 < 0 || g1 > ng || g0 > g1) {
		snprintf(err, errlen, "groups %d..%d outside the batch's 0..%d", g0, g1, ng);
		return -1;
	}
	/* the whole batch's denominators, so that the flows' losses and gradients add up to
	 * the batch's */
	long n_pred = ssmf_pred_count(batch->len, B);
	int n_lab = 0;
	for (int b = 0; b < B; b++)
		if (batch->label && (batch->label[b] == 0 || batch->label[b] == 1))
			n_lab++;
	ssmf_wt_build(&a->wt, a->wt_buf, m);
	char ferr[160] = "";
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
	for (int g = g0; g < g1; g++) {
		struct ssmf_acts *fa = a->fb_acts[ssmf_thread_id()];
		/* this group's gradients: the model's parameters, its own gradient buffer */
		struct ssmf_model gm = *m;
		gm.grads = a->fb_grads + (size_t)g * m->n_params;
		ssmf_param_pointers(&m->d, gm.grads, &gm.g);
		memset(gm.grads, 0, m->n_params * sizeof(ssmf_real));
		fa->wt = a->wt;
		fa->norm_pred = n_pred;
		fa->norm_lab = n_lab;
		loss_next[g] = loss_sup[g] = 0;
		for (int b = g * B / ng; b < (g + 1) * B / ng; b++) {
			struct ssmf_batch fb = flow_batch(batch, b);
			struct ssmf_outputs fo;
			char e[160];
			if (forward(&gm, fa, &fb, &fo, 0, e, sizeof e) < 0 ||
			    ssmf_backward(&gm, fa, e, sizeof e) < 0) {
#pragma omp critical(ssmf_flow_error)
				if (!ferr[0])
					snprintf(ferr, sizeof ferr, "%s", e);
				break;
			}
			loss_next[g] += fo.loss_next;
			loss_sup[g] += fo.loss_sup;
		}
	}
	a->B = 0;      /* no forward to take a backward of */
	if (ferr[0]) { /* cannot happen for a validated batch; said if it does */
		snprintf(err, errlen, "%s", ferr);
		return -1;
	}
	return 0;
}

void ssmf_add_group_grads(const struct ssmf_model *m, const struct ssmf_acts *a, int g0, int g1,
                          size_t i0, size_t i1, ssmf_real *dst)
{
	if (g1 > g0 && i1 > i0)
		sum_groups(dst + i0, a->fb_grads + (size_t)g0 * m->n_params + i0, m->n_params,
		           i1 - i0, g1 - g0);
}

int ssmf_forward_backward(struct ssmf_model *m, struct ssmf_acts *a, const struct ssmf_batch *batch,
                          struct ssmf_outputs *out, char *err, size_t errlen)
{
	int ng = batch->B < 1 ? 0 : ssmf_grad_groups(batch->B);
	double loss_next[SSMF_WGROUPS], loss_sup[SSMF_WGROUPS];
	if (ssmf_forward_backward_groups(m, a, batch, 0, ng, loss_next, loss_sup, err, errlen) < 0)
		return -1;
	ssmf_add_group_grads(m, a, 0, ng, 0, m->n_params, m->grads);
	memset(out, 0, sizeof *out);
	for (int g = 0; g < ng; g++) {
		out->loss_next += loss_next[g];
		out->loss_sup += loss_sup[g];
	}
	out->n_pred = ssmf_pred_count(batch->len, batch->B);
	out->loss = out->loss_next + batch->sup_weight * out->loss_sup;
	return 0;
}

int ssmf_infer(const struct ssmf_model *m, struct ssmf_acts *a, const struct ssmf_batch *batch,
               struct ssmf_outputs *out, char *err, size_t errlen)
{
	int B = batch->B, T = batch->T, nt = ssmf_threads();
	if (batch_check(a, batch, 0, err, errlen) < 0 || fb_prepare(m, a, nt, 0, err, errlen) < 0)
		return -1;
	batch_take(a, batch);
	a->n_pred = ssmf_pred_count(a->len, B);
	a->inferred = 1; /* the activations a backward would need are not kept */
	ssmf_wt_build(&a->wt, a->wt_buf, m);
	char ferr[160] = "";
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
	for (int b = 0; b < B; b++) {
		struct ssmf_acts *fa = a->fb_acts[ssmf_thread_id()];
		fa->wt = a->wt;
		struct ssmf_batch fb = flow_batch(batch, b);
		/* the flow's own rows only: a padding row costs what a packet costs, and no
		 * row before it depends on it */
		fb.T = fb.len[0] > 0 ? fb.len[0] : 1;
		struct ssmf_outputs fo;
		char e[160];
		if (batch->state) {
			forward_flow_carry(m, fa, &fb, batch->state[b]);
		} else if (forward(m, fa, &fb, &fo, 0, e, sizeof e) < 0) {
#pragma omp critical(ssmf_flow_error)
			if (!ferr[0])
				snprintf(ferr, sizeof ferr, "%s", e);
			continue;
		}
		size_t r0 = (size_t)b * T, rf = (size_t)fb.T, pad = (size_t)T - rf;
		memcpy(a->nll + r0 * SSMF_N_COMP, fa->nll, rf * SSMF_N_COMP * sizeof(ssmf_real));
		memset(a->nll + (r0 + rf) * SSMF_N_COMP, 0, pad * SSMF_N_COMP * sizeof(ssmf_real));
		memcpy(a->logits + r0 * SSMF_N_LOGITS, fa->logits,
		       rf * SSMF_N_LOGITS * sizeof(ssmf_real));
		memset(a->logits + (r0 + rf) * SSMF_N_LOGITS, 0,
		       pad * SSMF_N_LOGITS * sizeof(ssmf_real));
		memcpy(a->score_comp + (size_t)b * SSMF_N_COMP, fa->score_comp,
		       SSMF_N_COMP * sizeof(ssmf_real));
		a->score[b] = fa->score[0];
		a->cls[b] = fa->cls[0];
	}
	if (ferr[0]) { /* cannot happen for a validated batch; said if it does */
		snprintf(err, errlen, "%s", ferr);
		a->B = 0;
		return -1;
	}
	outputs_fill(a, out);
	return 0;
}
