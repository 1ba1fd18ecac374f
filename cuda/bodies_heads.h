/* bodies_heads.h - the heads: next-packet losses, surprise and flow scores, their
 * gradient, and the supervised flow head. The CPU counterpart: ssm/heads.c. */
#ifndef SSMF_CUDA_BODIES_HEADS_H
#define SSMF_CUDA_BODIES_HEADS_H

#include "cuda/bodies_common.h"

/* ---- heads ---- */
SSMF_BODY int cx_bucket(const uint32_t *edges, int n, uint32_t v)
{
	int b = 0;
	while (b < n - 1 && v >= edges[b])
		b++;
	return b;
}

SSMF_BODY float cx_ce(const float *l, int n, int target)
{
	float mx = l[0];
	for (int i = 1; i < n; i++)
		mx = l[i] > mx ? l[i] : mx;
	float s = 0;
	for (int i = 0; i < n; i++)
		s += expf(l[i] - mx);
	return logf(s) + mx - l[target];
}

SSMF_BODY void cx_ce_back(float *dl, const float *l, int n, int target, float scale)
{
	float mx = l[0];
	for (int i = 1; i < n; i++)
		mx = l[i] > mx ? l[i] : mx;
	float s = 0;
	for (int i = 0; i < n; i++)
		s += expf(l[i] - mx);
	for (int i = 0; i < n; i++)
		dl[i] = scale * (expf(l[i] - mx) / s - (i == target ? 1.0f : 0.0f));
}

/* NLL components (SSMF_N_COMP) of record nx under logits l (SSMF_N_LOGITS). */
SSMF_BODY void packet_nll_body(const float *l, const struct ssmf_record *nx,
                               const struct ssmf_cx_norm *nm, float *nll)
{
	nll[SSMF_COMP_DIR] = cx_ce(l + SSMF_LOGIT_DIR, SSMF_N_DIR, nx->direction ? 1 : 0);
	nll[SSMF_COMP_SIZE] = cx_ce(l + SSMF_LOGIT_SIZE, SSMF_N_SIZE_BUCKETS,
	                            cx_bucket(nm->size_edges, SSMF_N_SIZE_BUCKETS, nx->ip_len));
	nll[SSMF_COMP_GAP] = cx_ce(l + SSMF_LOGIT_GAP, SSMF_N_GAP_BUCKETS,
	                           cx_bucket(nm->gap_edges, SSMF_N_GAP_BUCKETS, nx->gap_us));
	float f = 0;
	if (nx->ip_proto == 6) {
		for (int i = 0; i < SSMF_N_TCP_BITS; i++) {
			float x = l[SSMF_LOGIT_FLAGS + i];
			float y = (nx->tcp_flags >> i) & 1 ? 1.0f : 0.0f;
			f += cx_softplus(x) - y * x;
		}
	}
	nll[SSMF_COMP_FLAGS] = f;
}

/* Thread per (b,t): nll (B,T,NC) of packet t under the logits of t-1; zeros for t = 0, t >= len. */
SSMF_BODY void nll_body(int b, int t, int T, int len, const float *logits,
                        const struct ssmf_record *rec, const struct ssmf_cx_norm *nm, float *nll)
{
	size_t bt = (size_t)b * T + t;
	float *o = nll + bt * SSMF_CX_NC;
	if (t < 1 || t >= len) {
		for (int c = 0; c < SSMF_CX_NC; c++)
			o[c] = 0;
		return;
	}
	packet_nll_body(logits + (bt - 1) * SSMF_CX_NL, rec + bt, nm, o);
}

/* Thread per flow b: score_comp (B,NC) and score (B), means over predicted packets in order. */
SSMF_BODY void score_body(int b, int T, int len, const float *nll, float *score, float *comp)
{
	float sum[SSMF_CX_NC] = {0, 0, 0, 0};
	for (int t = 1; t < len; t++)
		for (int c = 0; c < SSMF_CX_NC; c++)
			sum[c] += nll[((size_t)b * T + t) * SSMF_CX_NC + c];
	int np = len > 1 ? len - 1 : 0;
	float tot = 0;
	for (int c = 0; c < SSMF_CX_NC; c++) {
		comp[(size_t)b * SSMF_CX_NC + c] = np ? sum[c] / (float)np : 0.0f;
		tot += comp[(size_t)b * SSMF_CX_NC + c];
	}
	score[b] = tot;
}

/* Thread per (b,t): d_logits row t (the prediction of packet t+1), zeros when t+1 >= len. */
SSMF_BODY void dlogits_body(int b, int t, int T, int len, const float *logits,
                            const struct ssmf_record *rec, const struct ssmf_cx_norm *nm,
                            float scale, float *dlogits)
{
	size_t bt = (size_t)b * T + t;
	float *dl = dlogits + bt * SSMF_CX_NL;
	if (t + 1 >= len) {
		for (int c = 0; c < SSMF_CX_NL; c++)
			dl[c] = 0;
		return;
	}
	const float *l = logits + bt * SSMF_CX_NL;
	const struct ssmf_record *nx = rec + bt + 1;
	cx_ce_back(dl + SSMF_LOGIT_DIR, l + SSMF_LOGIT_DIR, SSMF_N_DIR, nx->direction ? 1 : 0,
	           scale);
	cx_ce_back(dl + SSMF_LOGIT_SIZE, l + SSMF_LOGIT_SIZE, SSMF_N_SIZE_BUCKETS,
	           cx_bucket(nm->size_edges, SSMF_N_SIZE_BUCKETS, nx->ip_len), scale);
	cx_ce_back(dl + SSMF_LOGIT_GAP, l + SSMF_LOGIT_GAP, SSMF_N_GAP_BUCKETS,
	           cx_bucket(nm->gap_edges, SSMF_N_GAP_BUCKETS, nx->gap_us), scale);
	for (int i = 0; i < SSMF_N_TCP_BITS; i++) {
		float y = (nx->tcp_flags >> i) & 1 ? 1.0f : 0.0f;
		dl[SSMF_LOGIT_FLAGS + i] =
		    nx->ip_proto == 6 ? scale * (cx_sigmoid(l[SSMF_LOGIT_FLAGS + i]) - y) : 0.0f;
	}
}

/* ---- supervised flow head ---- */
/* Thread per (b,c): pooled (B,D) = mean over t < len of hidden. */
SSMF_BODY void pool_body(int b, int c, int T, int D, int len, const float *hidden, float *pooled)
{
	float s = 0;
	for (int t = 0; t < len; t++)
		s += hidden[((size_t)b * T + t) * D + c];
	float inv = len ? 1.0f / (float)len : 0.0f;
	pooled[(size_t)b * D + c] = s * inv;
}

/* Thread per b: cls (B) = cls_b + cls_w . pooled */
SSMF_BODY void cls_body(int b, int D, const float *pooled, const float *w, const float *bias,
                        float *cls)
{
	float z = bias[0];
	for (int c = 0; c < D; c++)
		z += w[c] * pooled[(size_t)b * D + c];
	cls[b] = z;
}

/* Thread per b: dz (B), zero for unlabelled flows. */
SSMF_BODY void cls_dz_body(int b, const int32_t *label, const float *cls, float scale, float *dz)
{
	int y = label[b];
	dz[b] = (y == 0 || y == 1) ? scale * (cx_sigmoid(cls[b]) - (float)y) : 0.0f;
}

/* Thread per c (c == D: the bias): cls grads, summed over flows in order. */
SSMF_BODY void cls_grad_body(int c, int B, int D, const float *dz, const float *pooled, float *gw,
                             float *gb)
{
	float s = 0;
	for (int b = 0; b < B; b++)
		s += c < D ? dz[b] * pooled[(size_t)b * D + c] : dz[b];
	if (c < D)
		gw[c] += s;
	else
		gb[0] += s;
}

/* Thread per (b,t,c): d_hidden += dz cls_w / len for t < len */
SSMF_BODY void cls_dhidden_body(int b, int t, int c, int T, int D, int len, const float *dz,
                                const float *w, float *dhidden)
{
	if (t >= len)
		return;
	dhidden[((size_t)b * T + t) * D + c] += dz[b] * w[c] * (1.0f / (float)len);
}

#endif
