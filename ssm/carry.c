/* carry.c - sequence mode from a carried state: one flow's rows continue where step mode's
 * state leaves off, and leave the state after their last packet, so a long flow is scored
 * chunk after chunk with the same numbers as in one piece (or packet by packet).
 *
 * The rows go through the GEMMs, norms and prep as in sequence mode; the phase, the scan
 * and the first packet's surprise run step mode's row functions on the flow's state in
 * step mode's layout (step.c), so every mode does the same arithmetic.
 */
#include <string.h>

#include "ssm/internal.h"
#include "ssm/scan_body.h"

/* Per head: the phase advances and the scan steps over the flow's len rows of layer la,
 * against ls (the layer's state: per head phase, previous k, previous v, S). */
SSMF_HOT
static void mixer_carry(struct ssmf_layer_acts *la, const struct ssmf_layer_params *lp,
                        const struct ssmf_dims *d, ssmf_real *ls, int len, int T)
{
	int H = d->H, N = d->N, P = d->P, NA = d->NA;
	size_t hs = ssmf_step_head_state(d);
	for (int h = 0; h < H; h++) {
		ssmf_real *phi = ls + (size_t)h * hs;
		ssmf_real *kprev = phi + NA, *vprev = kprev + N, *S = vprev + P;
		for (int t = 0; t < len; t++) {
			size_t i = (size_t)t * H + h;
			ssmf_real *k = la->k + i * N, *q = la->q + i * N;
			const ssmf_real *proj = la->proj + (size_t)t * d->DP;
			const ssmf_real *v = proj + d->O_X + (size_t)h * P;
			ssmf_real al = la->alpha[i], dtv = la->dt[i], lam = la->lam[i];
			rotary_row(phi, k, q, la->bn + (size_t)t * N, la->cn + (size_t)t * N,
			           proj + d->O_TH, dtv, NA);
			ssmf_scan_step(S, P, la->y + (size_t)t * d->DI + (size_t)h * P, kprev,
			               vprev, k, v, q, al, (R(1) - lam) * dtv * al, lam * dtv,
			               lp->Dskip[h], N, P);
			memcpy(kprev, k, (size_t)N * sizeof(ssmf_real));
			memcpy(vprev, v, (size_t)P * sizeof(ssmf_real));
		}
		for (int t = len; t < T; t++)
			memset(la->y + (size_t)t * d->DI + (size_t)h * P, 0,
			       (size_t)P * sizeof(ssmf_real));
	}
}

void forward_flow_carry(const struct ssmf_model *m, struct ssmf_acts *a,
                        const struct ssmf_batch *fb, ssmf_real *state)
{
	const struct ssmf_dims *d = &m->d;
	int T = fb->T, len = fb->len[0], D = d->D;
	size_t hs = ssmf_step_head_state(d);
	a->B = 1;
	a->T = T;
	a->len[0] = len;
	for (int t = 0; t < T; t++) {
		if (t < len) {
			input_normalise(&m->input, &fb->rec[t], a->feat + (size_t)t * d->F, a->gdt + t);
		} else {
			memset(a->feat + (size_t)t * d->F, 0, (size_t)d->F * sizeof(ssmf_real));
			a->gdt[t] = 0;
		}
	}
	linear_rows(a->layer[0].res, a->feat, a->wt.embed, m->p.embed_b, T, d->F, D);
	for (int l = 0; l < d->L; l++) {
		struct ssmf_layer_acts *la = &a->layer[l];
		const struct ssmf_layer_params *lp = &m->p.layer[l];
		rmsnorm_rows(la->xn, la->rstd, la->res, lp->norm_w, T, D);
		linear_rows(la->proj, la->xn, a->wt.in_proj[l], NULL, T, D, d->DP);
		prep_rows(la, a->gdt, lp, d, 0, T);
		mixer_carry(la, lp, d, state + 1 + SSMF_N_LOGITS + (size_t)l * d->H * hs, len, T);
		gate_rows(la->yg, la->y, la->proj, d, T);
		ssmf_real *next = l + 1 < d->L ? a->layer[l + 1].res : a->res_f;
		linear_rows(next, la->yg, a->wt.out_proj[l], NULL, T, d->DI, D);
		for (size_t i = 0; i < (size_t)T * D; i++)
			next[i] += la->res[i];
	}
	rmsnorm_rows(a->hidden, a->rstd_f, a->res_f, m->p.normf_w, T, D);
	linear_rows(a->logits, a->hidden, a->wt.head, m->p.head_b, T, D, SSMF_N_LOGITS);
	/* packet t is predicted by position t - 1, the first by the state's pending logits */
	double sum[SSMF_N_COMP] = {0};
	long npred = 0;
	for (int t = 0; t < T; t++) {
		ssmf_real *nll = a->nll + (size_t)t * SSMF_N_COMP;
		const ssmf_real *pred = t > 0 ? a->logits + (size_t)(t - 1) * SSMF_N_LOGITS
		                              : (state[0] != 0 ? state + 1 : NULL);
		if (t < len && pred) {
			ssmf_packet_nll(pred, &fb->rec[t], nll);
			for (int c = 0; c < SSMF_N_COMP; c++)
				sum[c] += nll[c];
			npred++;
		} else {
			memset(nll, 0, SSMF_N_COMP * sizeof(ssmf_real));
		}
	}
	a->score[0] = 0;
	for (int c = 0; c < SSMF_N_COMP; c++) {
		a->score_comp[c] = npred ? (ssmf_real)(sum[c] / (double)npred) : 0;
		a->score[0] += a->score_comp[c];
	}
	a->cls[0] = 0; /* the flow head pools a whole flow: not defined for a chunk */
	if (len > 0) {
		memcpy(state + 1, a->logits + (size_t)(len - 1) * SSMF_N_LOGITS,
		       SSMF_N_LOGITS * sizeof(ssmf_real));
		state[0] = 1;
	}
}
