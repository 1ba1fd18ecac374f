/* step.c - step mode: one packet of many flows, state kept per flow.
 *
 * Runs the very row functions of sequence mode (normalisation, the GEMM, prep_row,
 * rotary_row, ssmf_scan_step, the heads' NLL) so the two modes agree.
 *
 * Per-flow state (floats): seen flag (1), pending logits (NL), then per layer and head:
 * phase (NA), previous k (N), previous v (P), state S (N x P).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/internal.h"
#include "ssm/scan_body.h"

struct ssmf_step_ws {
	int max_n;
	struct ssmf_dims d;
	struct ssmf_wt wt;
	ssmf_real *buf;
	ssmf_real *feat, *gdt, *res, *xn, *rstd, *proj, *dt, *A, *alpha, *lam, *bn, *cn, *rstd_b,
	    *rstd_c, *k, *q, *y, *yg, *out, *hidden, *logits;
};

size_t ssmf_step_head_state(const struct ssmf_dims *d)
{
	return (size_t)d->NA + d->N + d->P + (size_t)d->N * d->P;
}

size_t ssmf_step_state_size(const struct ssmf_model *m)
{
	const struct ssmf_dims *d = &m->d;
	return 1 + SSMF_N_LOGITS + (size_t)d->L * d->H * ssmf_step_head_state(d);
}

void ssmf_step_state_reset(const struct ssmf_model *m, ssmf_real *state)
{
	memset(state, 0, ssmf_step_state_size(m) * sizeof(ssmf_real));
}

struct ssmf_step_ws *ssmf_step_ws_new(const struct ssmf_model *m, int max_flows, char *err,
                                      size_t errlen)
{
	const struct ssmf_dims *d = &m->d;
	if (max_flows < 1) {
		snprintf(err, errlen, "step workspace for %d flows", max_flows);
		return NULL;
	}
	struct ssmf_step_ws *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->max_n = max_flows;
	w->d = *d;
	size_t n = (size_t)max_flows, off = 0;
	size_t sizes[] = {n * d->F,         n,         n * d->D,  n * d->D, n,
	                  n * d->DP,        n * d->H,  n * d->H,  n * d->H, n * d->H,
	                  n * d->N,         n * d->N,  n,         n,        n * d->H * d->N,
	                  n * d->H * d->N,  n * d->DI, n * d->DI, n * d->D, n * d->D,
	                  n * SSMF_N_LOGITS};
	ssmf_real **dst[] = {&w->feat,   &w->gdt,    &w->res,   &w->xn,  &w->rstd, &w->proj,
	                     &w->dt,     &w->A,      &w->alpha, &w->lam, &w->bn,   &w->cn,
	                     &w->rstd_b, &w->rstd_c, &w->k,     &w->q,   &w->y,    &w->yg,
	                     &w->out,    &w->hidden, &w->logits};
	size_t total = ssmf_wt_size(d);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		total += (sizes[i] + 15) & ~(size_t)15;
	/* C11 aligned_alloc: the size must be a multiple of the alignment */
	w->buf = aligned_alloc(64, (total * sizeof(ssmf_real) + 63) & ~(size_t)63);
	if (!w->buf) {
		free(w);
		snprintf(err, errlen, "out of memory for the step workspace");
		return NULL;
	}
	memset(w->buf, 0, total * sizeof(ssmf_real));
	ssmf_wt_build(&w->wt, w->buf, m);
	off = ssmf_wt_size(d);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		*dst[i] = w->buf + off;
		off += (sizes[i] + 15) & ~(size_t)15;
	}
	return w;
}

void ssmf_step_ws_free(struct ssmf_step_ws *ws)
{
	if (!ws)
		return;
	free(ws->buf);
	free(ws);
}

/* The mixer of one layer for flow i of the step: prep, then per head the rotary phase and
 * one scan step against the flow's state ls. Its own (cloned) function, so the vector scan
 * body is compiled for the machine's widest vectors. */
SSMF_HOT
static void step_mixer(struct ssmf_step_ws *w, const struct ssmf_layer_params *lp,
                       const struct ssmf_dims *d, ssmf_real *ls, int i)
{
	int H = d->H, N = d->N, P = d->P, NA = d->NA;
	size_t hs = ssmf_step_head_state(d), ih = (size_t)i * H;
	const ssmf_real *proj = w->proj + (size_t)i * d->DP;
	prep_row(w->dt + ih, w->A + ih, w->alpha + ih, w->lam + ih, w->bn + (size_t)i * N,
	         w->cn + (size_t)i * N, w->rstd_b + i, w->rstd_c + i, proj, w->gdt[i], lp, d);
	for (int h = 0; h < H; h++) {
		ssmf_real *phi = ls + (size_t)h * hs;
		ssmf_real *kprev = phi + NA, *vprev = kprev + N, *S = vprev + P;
		ssmf_real *k = w->k + (ih + h) * N, *q = w->q + (ih + h) * N;
		const ssmf_real *v = proj + d->O_X + (size_t)h * P;
		ssmf_real al = w->alpha[ih + h], dtv = w->dt[ih + h], lam = w->lam[ih + h];
		rotary_row(phi, k, q, w->bn + (size_t)i * N, w->cn + (size_t)i * N, proj + d->O_TH,
		           dtv, NA);
		ssmf_scan_step(S, P, w->y + (size_t)i * d->DI + (size_t)h * P, kprev, vprev, k, v,
		               q, al, (R(1) - lam) * dtv * al, lam * dtv, lp->Dskip[h], N, P);
		memcpy(kprev, k, (size_t)N * sizeof(ssmf_real));
		memcpy(vprev, v, (size_t)P * sizeof(ssmf_real));
	}
}

int ssmf_step(const struct ssmf_model *m, struct ssmf_step_ws *w, ssmf_real *const *state,
              const struct ssmf_record *rec, int n, ssmf_real *nll, ssmf_real *logits, char *err,
              size_t errlen)
{
	const struct ssmf_dims *d = &m->d;
	if (n < 0 || n > w->max_n) {
		snprintf(err, errlen, "step over %d flows, workspace holds %d", n, w->max_n);
		return -1;
	}
	if (n == 0)
		return 0;
	int D = d->D, H = d->H;
	size_t hs = ssmf_step_head_state(d);
	for (int i = 0; i < n; i++)
		input_normalise(&m->input, &rec[i], w->feat + (size_t)i * d->F, w->gdt + i);
	linear_forward(w->res, w->feat, w->wt.embed, m->p.embed_b, n, d->F, D);
	for (int l = 0; l < d->L; l++) {
		const struct ssmf_layer_params *lp = &m->p.layer[l];
		rmsnorm_forward(w->xn, w->rstd, w->res, lp->norm_w, n, D);
		linear_forward(w->proj, w->xn, w->wt.in_proj[l], NULL, n, D, d->DP);
#pragma omp parallel for schedule(static) num_threads(ssmf_threads()) if (n > 16)
		for (int i = 0; i < n; i++)
			step_mixer(w, lp, d, state[i] + 1 + SSMF_N_LOGITS + (size_t)l * H * hs, i);
		gate_forward(w->yg, w->y, w->proj, d, n);
		linear_forward(w->out, w->yg, w->wt.out_proj[l], NULL, n, d->DI, D);
		for (size_t i = 0; i < (size_t)n * D; i++)
			w->out[i] += w->res[i];
		ssmf_real *t = w->res;
		w->res = w->out;
		w->out = t;
	}
	rmsnorm_forward(w->hidden, w->rstd, w->res, m->p.normf_w, n, D);
	linear_forward(w->logits, w->hidden, w->wt.head, m->p.head_b, n, D, SSMF_N_LOGITS);
	for (int i = 0; i < n; i++) {
		ssmf_real *st = state[i];
		ssmf_real *lg = w->logits + (size_t)i * SSMF_N_LOGITS;
		if (nll) {
			if (st[0] != 0)
				ssmf_packet_nll(st + 1, &rec[i], nll + (size_t)i * SSMF_N_COMP);
			else
				memset(nll + (size_t)i * SSMF_N_COMP, 0,
				       SSMF_N_COMP * sizeof(ssmf_real));
		}
		memcpy(st + 1, lg, SSMF_N_LOGITS * sizeof(ssmf_real));
		st[0] = 1;
		if (logits)
			memcpy(logits + (size_t)i * SSMF_N_LOGITS, lg,
			       SSMF_N_LOGITS * sizeof(ssmf_real));
	}
	return 0;
}
