/* heads.c - next-packet heads, loss, surprise and flow scores; supervised flow head.
 *
 * Position t predicts packet t+1: direction (softmax 2), size bucket (softmax 16), gap bucket
 * (softmax 16) and, for TCP packets only, the 8 flag bits (independent Bernoulli). A packet's
 * surprise is the sum of the component NLLs; the loss is its mean over predicted packets.
 */
#include <string.h>

#include "ssm/internal.h"
#include "ssm/mathfn.h"

/* exp(l - max) into e (a loop that vectorises), then the sum in index order */
static inline __attribute__((always_inline)) ssmf_real
softmax_denominator(ssmf_real *e, const ssmf_real *l, int n, ssmf_real *mxo)
{
	ssmf_real mx = l[0];
	for (int i = 1; i < n; i++)
		mx = l[i] > mx ? l[i] : mx;
	for (int i = 0; i < n; i++)
		e[i] = ssmf_expf(l[i] - mx);
	ssmf_real s = 0;
	for (int i = 0; i < n; i++)
		s += e[i];
	*mxo = mx;
	return s;
}

static inline __attribute__((always_inline)) ssmf_real ce(const ssmf_real *l, int n, int target)
{
	ssmf_real e[SSMF_N_LOGITS], mx;
	ssmf_real s = softmax_denominator(e, l, n, &mx);
	return log(s) + mx - l[target];
}

static void ce_back(ssmf_real *dl, const ssmf_real *l, int n, int target, ssmf_real scale)
{
	ssmf_real e[SSMF_N_LOGITS], mx;
	ssmf_real s = softmax_denominator(e, l, n, &mx);
	for (int i = 0; i < n; i++)
		dl[i] = scale * (e[i] / s - (i == target ? R(1) : R(0)));
}

SSMF_HOT
void ssmf_packet_nll(const ssmf_real *l, const struct ssmf_record *next, ssmf_real *nll)
{
	nll[SSMF_COMP_DIR] = ce(l + SSMF_LOGIT_DIR, SSMF_N_DIR, next->direction ? 1 : 0);
	nll[SSMF_COMP_SIZE] =
	    ce(l + SSMF_LOGIT_SIZE, SSMF_N_SIZE_BUCKETS, ssmf_size_bucket(next->ip_len));
	nll[SSMF_COMP_GAP] =
	    ce(l + SSMF_LOGIT_GAP, SSMF_N_GAP_BUCKETS, ssmf_gap_bucket(next->gap_us));
	ssmf_real f = 0;
	if (next->ip_proto == 6) {
		for (int i = 0; i < SSMF_N_TCP_BITS; i++) {
			ssmf_real x = l[SSMF_LOGIT_FLAGS + i];
			ssmf_real y = (next->tcp_flags >> i) & 1 ? R(1) : R(0);
			/* BCE with logits: softplus(x) - y x */
			f += ssmf_softplus(x) - y * x;
		}
	}
	nll[SSMF_COMP_FLAGS] = f;
}

static void packet_nll_back(ssmf_real *dl, const ssmf_real *l, const struct ssmf_record *next,
                            ssmf_real scale)
{
	ce_back(dl + SSMF_LOGIT_DIR, l + SSMF_LOGIT_DIR, SSMF_N_DIR, next->direction ? 1 : 0,
	        scale);
	ce_back(dl + SSMF_LOGIT_SIZE, l + SSMF_LOGIT_SIZE, SSMF_N_SIZE_BUCKETS,
	        ssmf_size_bucket(next->ip_len), scale);
	ce_back(dl + SSMF_LOGIT_GAP, l + SSMF_LOGIT_GAP, SSMF_N_GAP_BUCKETS,
	        ssmf_gap_bucket(next->gap_us), scale);
	for (int i = 0; i < SSMF_N_TCP_BITS; i++) {
		ssmf_real y = (next->tcp_flags >> i) & 1 ? R(1) : R(0);
		dl[SSMF_LOGIT_FLAGS + i] = next->ip_proto == 6
		                               ? scale * (ssmf_sigmoid(l[SSMF_LOGIT_FLAGS + i]) - y)
		                               : R(0);
	}
}

long ssmf_pred_count(const int *len, int B)
{
	long n = 0;
	for (int b = 0; b < B; b++)
		n += len[b] > 1 ? len[b] - 1 : 0;
	return n;
}

void heads_loss_forward(struct ssmf_acts *a)
{
	int B = a->B, T = a->T;
	a->n_pred = ssmf_pred_count(a->len, B);
#pragma omp parallel for schedule(static) num_threads(ssmf_threads())
	for (int b = 0; b < B; b++) {
		ssmf_real *sc = a->score_comp + (size_t)b * SSMF_N_COMP;
		ssmf_real sum[SSMF_N_COMP] = {0};
		memset(a->nll + (size_t)b * T * SSMF_N_COMP, 0,
		       (size_t)T * SSMF_N_COMP * sizeof(ssmf_real));
		for (int t = 1; t < a->len[b]; t++) {
			size_t bt = (size_t)b * T + t;
			ssmf_real *nll = a->nll + bt * SSMF_N_COMP;
			ssmf_packet_nll(a->logits + (bt - 1) * SSMF_N_LOGITS, &a->rec[bt], nll);
			for (int c = 0; c < SSMF_N_COMP; c++)
				sum[c] += nll[c];
		}
		int np = a->len[b] > 1 ? a->len[b] - 1 : 0;
		ssmf_real tot = 0;
		for (int c = 0; c < SSMF_N_COMP; c++) {
			sc[c] = np ? sum[c] / R(np) : R(0);
			tot += sc[c];
		}
		a->score[b] = tot;
	}
}

void heads_loss_backward(struct ssmf_acts *a)
{
	int B = a->B, T = a->T;
	long n_pred = a->norm_pred ? a->norm_pred : a->n_pred;
	ssmf_real scale = n_pred ? R(1) / R(n_pred) : R(0);
#pragma omp parallel for schedule(static) num_threads(ssmf_threads())
	for (int b = 0; b < B; b++) {
		memset(a->d_logits + (size_t)b * T * SSMF_N_LOGITS, 0,
		       (size_t)T * SSMF_N_LOGITS * sizeof(ssmf_real));
		for (int t = 1; t < a->len[b]; t++) {
			size_t bt = (size_t)b * T + t;
			packet_nll_back(a->d_logits + (bt - 1) * SSMF_N_LOGITS,
			                a->logits + (bt - 1) * SSMF_N_LOGITS, &a->rec[bt], scale);
		}
	}
}

void cls_forward(struct ssmf_acts *a, const struct ssmf_params *p, int D)
{
	int B = a->B, T = a->T;
	for (int b = 0; b < B; b++) {
		ssmf_real *pool = a->pooled + (size_t)b * D;
		for (int c = 0; c < D; c++)
			pool[c] = 0;
		for (int t = 0; t < a->len[b]; t++)
			for (int c = 0; c < D; c++)
				pool[c] += a->hidden[((size_t)b * T + t) * D + c];
		ssmf_real inv = a->len[b] ? R(1) / R(a->len[b]) : R(0);
		ssmf_real z = p->cls_b[0];
		for (int c = 0; c < D; c++) {
			pool[c] *= inv;
			z += p->cls_w[c] * pool[c];
		}
		a->cls[b] = z;
	}
}

/* BCE of one flow's logit against its label. */
static ssmf_real bce(ssmf_real z, int y)
{
	return ssmf_softplus(z) - (y ? z : R(0));
}

double cls_loss(const struct ssmf_acts *a)
{
	double s = 0;
	for (int b = 0; b < a->B; b++)
		if (a->label[b] == 0 || a->label[b] == 1)
			s += (double)bce(a->cls[b], a->label[b]);
	int n_lab = a->norm_lab ? a->norm_lab : a->n_lab;
	return n_lab ? s / (double)n_lab : 0.0;
}

void cls_backward(struct ssmf_acts *a, const struct ssmf_params *p, struct ssmf_params *g, int D)
{
	int B = a->B, T = a->T;
	if (!a->n_lab || a->sup_weight == 0.0)
		return;
	ssmf_real scale = R(a->sup_weight / (double)(a->norm_lab ? a->norm_lab : a->n_lab));
	for (int b = 0; b < B; b++) {
		if (a->label[b] != 0 && a->label[b] != 1)
			continue;
		ssmf_real dz = scale * (ssmf_sigmoid(a->cls[b]) - R(a->label[b]));
		const ssmf_real *pool = a->pooled + (size_t)b * D;
		for (int c = 0; c < D; c++)
			g->cls_w[c] += dz * pool[c];
		g->cls_b[0] += dz;
		ssmf_real inv = R(1) / R(a->len[b]);
		for (int t = 0; t < a->len[b]; t++)
			for (int c = 0; c < D; c++)
				a->d_hidden[((size_t)b * T + t) * D + c] += dz * p->cls_w[c] * inv;
	}
}
