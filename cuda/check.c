/* check.c - the kernels (host emulation or GPU) against the CPU reference in ssm/.
 *
 * One random model and batch per seed; every tensor of the pipeline is compared with the
 * CPU's activation of the same name (rows of padding excluded: neither side defines them),
 * then every parameter gradient, AdamW, and step mode over interleaved flows. The backend's
 * activations are poisoned with NaN before each run, so an element a kernel fails to write
 * shows up as NaN (a NaN never passes).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/bodies_adamw.h" /* adamw_body, the reference update; SSMF_CX_MAX_LAYERS */
#include "cuda/cx.h"
#include "ssm/internal.h"

_Static_assert(SSMF_CX_MAX_LAYERS == SSMF_MAX_LAYERS, "layer bound");

/* Tolerances on max|ours - ref| / max|ref| per tensor (docs/cuda.md). */
#define TOL_FWD    2e-5 /* activations, outputs, step mode (float, op-for-op) */
#define TOL_BWD    2e-4 /* gradients: sums over rows and channels in another order */
#define TOL_TF32_F 2e-2 /* with TF32 projections */
#define TOL_TF32_B 5e-2

struct backend {
	int kind;
	void *c;
};

#define DISPATCH(fn, ...)                                                                          \
	(be->kind == SSMF_CX_HOST ? ssmf_cxh_##fn((struct ssmf_cxh *)be->c, __VA_ARGS__)           \
	                          : ssmf_cuda_##fn((struct ssmf_cuda *)be->c, __VA_ARGS__))

static void be_free(struct backend *be)
{
	if (!be->c)
		return;
	if (be->kind == SSMF_CX_HOST)
		ssmf_cxh_free(be->c);
	else
		ssmf_cuda_free(be->c);
	be->c = NULL;
}

/* xorshift64: the check's own stream, seeded per check */
static uint32_t rnd(uint64_t *rng)
{
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	return (uint32_t)(*rng >> 32);
}
static double unif(uint64_t *rng)
{
	return (rnd(rng) + 0.5) / 4294967296.0;
}

static void random_flow(uint64_t *rng, struct ssmf_record *r, int len, uint32_t id)
{
	int tcp = rnd(rng) % 3 != 0;
	for (int t = 0; t < len; t++) {
		memset(&r[t], 0, sizeof r[t]);
		uint32_t gap = 0;
		if (t > 0) {
			double e = unif(rng) * 8.0;
			gap = (uint32_t)(e < 0.3 ? 0 : exp(e * 2.3));
		}
		r[t].flow_id = id;
		r[t].gap_us = gap;
		r[t].ip_len = (uint16_t)(40 + rnd(rng) % 1461);
		r[t].payload_len = (uint16_t)(r[t].ip_len > 52 ? r[t].ip_len - 52 : 0);
		r[t].direction = (uint8_t)(rnd(rng) & 1);
		r[t].pkt_index = (uint16_t)t;
		r[t].ttl = (uint8_t)(rnd(rng) % 2 ? 64 : 128);
		r[t].ip_proto = tcp ? 6 : (rnd(rng) % 5 ? 17 : 1);
		if (tcp) {
			r[t].tcp_flags = (uint8_t)(rnd(rng) & 0xff);
			r[t].tcp_window = (uint16_t)rnd(rng);
		}
		r[t].flags = (uint8_t)(rnd(rng) % 7 == 0 ? rnd(rng) & 0x1f : 0);
	}
}

void ssmf_cx_report_free(struct ssmf_cx_report *rep)
{
	free(rep->r);
	*rep = (struct ssmf_cx_report){0};
}

/* The next result slot, the list grown as needed; NULL when out of memory. */
static struct ssmf_cx_result *next_result(struct ssmf_cx_report *rep)
{
	if (rep->n == rep->cap) {
		int cap = rep->cap ? rep->cap * 2 : 64;
		struct ssmf_cx_result *r = realloc(rep->r, (size_t)cap * sizeof *r);
		if (!r)
			return NULL;
		rep->r = r;
		rep->cap = cap;
	}
	return &rep->r[rep->n++];
}

/* Compares n elements; rows/width/len restrict to valid tokens when len is not NULL. */
static void compare(struct ssmf_cx_report *rep, const char *name, const float *x, const float *ref,
                    size_t n, const int *len, int B, int T, double tol)
{
	size_t per = len ? n / ((size_t)B * T) : 0;
	double mx = 0, rm = 0;
	long cnt = 0;
	int nan = 0;
	for (size_t i = 0; i < n; i++) {
		if (len) {
			size_t bt = i / per;
			if ((int)(bt % T) >= len[bt / T])
				continue;
		}
		double a = x[i], r = ref[i], e = fabs(a - r);
		if (!(e == e) || !(a == a))
			nan = 1;
		if (e > mx)
			mx = e;
		if (fabs(r) > rm)
			rm = fabs(r);
		cnt++;
	}
	if (rep->perturb_at == rep->n + 1 + rep->n_lost) /* test hook (cx.h) */
		mx += rm > 1e-30 ? rm : 1;
	struct ssmf_cx_result *o = next_result(rep);
	if (!o) { /* not stored, so judged failed */
		rep->n_lost++;
		rep->n_fail++;
		return;
	}
	snprintf(o->name, sizeof o->name, "%s", name);
	o->max_abs = nan ? NAN : mx;
	o->ref_max = rm;
	o->rel = nan ? NAN : mx / (rm > 1e-30 ? rm : 1e-30);
	if (!nan && rm <= 1e-30)
		o->rel = mx; /* an all-zero reference: judge the absolute error */
	o->tol = tol;
	o->count = cnt;
	o->pass = !nan && o->rel <= tol;
	if (!o->pass)
		rep->n_fail++;
}

static void compare_scalar(struct ssmf_cx_report *rep, const char *name, double x, double ref,
                           double tol)
{
	float a = (float)x, r = (float)ref;
	compare(rep, name, &a, &r, 1, NULL, 1, 1, tol);
}

/* CPU AdamW with the same formula as adamw_body (PyTorch semantics). */
static void cpu_adamw(float *p, const float *g, float *m, float *v, const float *mask, size_t n,
                      const struct ssmf_cuda_adamw_hp *hp)
{
	float bc1 = (float)(1.0 - pow(hp->beta1, (double)hp->step));
	float bc2 = (float)(1.0 - pow(hp->beta2, (double)hp->step));
	for (size_t i = 0; i < n; i++)
		adamw_body(i, p, g, m, v, mask, (float)hp->lr, (float)hp->beta1, (float)hp->beta2,
		           (float)hp->eps, (float)hp->weight_decay, bc1, bc2,
		           (float)hp->grad_scale);
}

int ssmf_cx_check(int kind, const struct ssmf_config *cfg, int B, int T, uint64_t seed, int tf32,
                  struct ssmf_cx_report *rep, char *err, size_t errlen)
{
	double tf = kind == SSMF_CX_DEVICE && tf32 ? TOL_TF32_F : TOL_FWD;
	double tb = kind == SSMF_CX_DEVICE && tf32 ? TOL_TF32_B : TOL_BWD;
	int rc = -1;
	uint64_t rng_state = seed * 0x9e3779b97f4a7c15ull + 88172645463325252ull, *rng = &rng_state;
	struct ssmf_model *m = ssmf_model_new(cfg, seed, err, errlen);
	if (!m)
		return SSMF_CUDA_E_FAIL;
	const struct ssmf_dims *d = &m->d;
	/* perturb every parameter so no gradient is structurally trivial (D = 1, bias = 1) */
	for (size_t i = 0; i < m->n_params; i++)
		m->params[i] += (float)(0.2 * (unif(rng) - 0.5));
	int SF = 7, SN = 5; /* step mode: 7 flows, up to 5 per call */
	struct ssmf_record *rec = calloc((size_t)B * T, sizeof *rec);
	int *len = calloc((size_t)B, sizeof *len);
	int8_t *label = calloc((size_t)B, 1);
	size_t BT = (size_t)B * T;
	size_t big =
	    BT * (size_t)(d->DP > d->DI * 2 ? d->DP : d->DI * 2) * 4 + m->n_params * 4 + 4096;
	float *buf = malloc(big * sizeof(float));
	float *m0 = calloc(m->n_params, sizeof(float)), *v0 = calloc(m->n_params, sizeof(float));
	float *mask = calloc(m->n_params, sizeof(float));
	float *pcopy = malloc(m->n_params * sizeof(float));
	struct backend bes = {kind, NULL}, *be = &bes;
	struct ssmf_acts *a = ssmf_acts_new_keep(m, B, T, err, errlen);
	if (!rec || !len || !label || !buf || !m0 || !v0 || !mask || !pcopy || !a) {
		if (a)
			snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int b = 0; b < B; b++) {
		/* lengths: full, 1, 0, 2, then random */
		int L = b == 0   ? T
		        : b == 1 ? 1
		        : b == 2 ? 0
		        : b == 3 ? (T > 1 ? 2 : 1)
		                 : 1 + (int)(rnd(rng) % (unsigned)T);
		len[b] = L;
		label[b] = (int8_t)((int)(rnd(rng) % 3) - 1);
		random_flow(rng, rec + (size_t)b * T, T, (uint32_t)b);
	}
	struct ssmf_batch batch = {rec, len, label, B, T, 0.5, NULL};
	struct ssmf_cuda_opts o = {0, B, T, SN, SF, tf32, 1};
	rc = kind == SSMF_CX_HOST ? ssmf_cxh_new((struct ssmf_cxh **)&be->c, m, &o, err, errlen)
	                          : ssmf_cuda_new((struct ssmf_cuda **)&be->c, m, &o, err, errlen);
	if (rc)
		goto out;
	/* ---- sequence mode ---- */
	struct ssmf_outputs ro, go;
	ssmf_zero_grad(m);
	if ((rc = ssmf_forward(m, a, &batch, &ro, err, errlen)) ||
	    (rc = ssmf_backward(m, a, err, errlen)) || (rc = DISPATCH(poison, err, errlen)) ||
	    (rc = DISPATCH(zero_grad, err, errlen)) ||
	    (rc = DISPATCH(forward, &batch, &go, err, errlen)))
		goto out;
	compare_scalar(rep, "loss", go.loss, ro.loss, tf);
	compare(rep, "out.nll", go.nll, ro.nll, BT * SSMF_N_COMP, len, B, T, tf);
	compare(rep, "out.score", go.score, ro.score, (size_t)B, NULL, B, 1, tf);
	compare(rep, "out.score_comp", go.score_comp, ro.score_comp, (size_t)B * SSMF_N_COMP, NULL,
	        B, 1, tf);
	compare(rep, "out.cls_logit", go.cls_logit, ro.cls_logit, (size_t)B, NULL, B, 1, tf);
	compare(rep, "out.logits", go.logits, ro.logits, BT * SSMF_N_LOGITS, len, B, T, tf);
	struct {
		const char *name;
		int layer;
		const ssmf_real *ref;
	} fw[3 + 14 * SSMF_MAX_LAYERS + 4];
	int nf = 0;
	fw[nf].name = "feat", fw[nf].layer = 0, fw[nf++].ref = a->feat;
	fw[nf].name = "gdt", fw[nf].layer = 0, fw[nf++].ref = a->gdt;
	for (int l = 0; l < d->L; l++) {
		struct ssmf_layer_acts *la = &a->layer[l];
		const char *nm[] = {"res", "xn", "proj", "dt", "A", "alpha", "lam",
		                    "bn",  "cn", "phi",  "k",  "q", "y",     "yg"};
		const ssmf_real *rp[] = {la->res,   la->xn,  la->proj, la->dt, la->A,
		                         la->alpha, la->lam, la->bn,   la->cn, la->phi,
		                         la->k,     la->q,   la->y,    la->yg};
		for (int i = 0; i < 14; i++)
			fw[nf].name = nm[i], fw[nf].layer = l, fw[nf++].ref = rp[i];
	}
	fw[nf].name = "res_f", fw[nf].layer = 0, fw[nf++].ref = a->res_f;
	fw[nf].name = "hidden", fw[nf].layer = 0, fw[nf++].ref = a->hidden;
	for (int i = 0; i < nf; i++) {
		long n = DISPATCH(fetch, fw[i].name, fw[i].layer, buf, big, err, errlen);
		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		char name[64];
		int per_layer = fw[i].ref != a->feat && fw[i].ref != a->gdt &&
		                fw[i].ref != a->res_f && fw[i].ref != a->hidden;
		if (per_layer && d->L > 1)
			snprintf(name, sizeof name, "fwd.%s.%d", fw[i].name, fw[i].layer);
		else
			snprintf(name, sizeof name, "fwd.%s", fw[i].name);
		compare(rep, name, buf, fw[i].ref, (size_t)n, len, B, T, tf);
	}
	/* ---- backward ---- */
	if ((rc = DISPATCH(backward, err, errlen)))
		goto out;
	struct {
		const char *name;
		const ssmf_real *ref;
	} bw[] = {
	    {"d_logits", a->d_logits},  {"d_hidden", a->d_hidden},    {"d_res", a->d_res},
	    {"d_y", a->keep.d_y},       {"d_proj", a->keep.d_proj},   {"d_k", a->keep.d_k},
	    {"d_q", a->keep.d_q},       {"d_alpha", a->keep.d_alpha}, {"d_lam", a->keep.d_lam},
	    {"d_bn_h", a->keep.d_bn_h}, {"d_cn_h", a->keep.d_cn_h},   {"d_th_h", a->keep.d_th_h}};
	for (size_t i = 0; i < sizeof bw / sizeof bw[0]; i++) {
		long n = DISPATCH(fetch, bw[i].name, 0, buf, big, err, errlen);
		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		char name[64];
		snprintf(name, sizeof name, "bwd.%s", bw[i].name);
		compare(rep, name, buf, bw[i].ref, (size_t)n, len, B, T, tb);
	}
	if ((rc = DISPATCH(download_grads, buf, err, errlen)))
		goto out;
	for (int i = 0; i < m->n_tensors; i++) {
		char name[80];
		snprintf(name, sizeof name, "grad.%s", m->info[i].name);
		compare(rep, name, buf + m->info[i].offset, m->grads + m->info[i].offset,
		        m->info[i].numel, NULL, 1, 1, tb);
	}
	double gn = 0, rn = 0;
	if ((rc = DISPATCH(grad_norm, &gn, err, errlen)))
		goto out;
	for (size_t i = 0; i < m->n_params; i++)
		rn += (double)m->grads[i] * m->grads[i];
	compare_scalar(rep, "grad_norm", gn, sqrt(rn), tb);
	/* ---- AdamW: two updates from the CPU's gradients on both sides ---- */
	if ((rc = DISPATCH(download_grads, buf, err, errlen)))
		goto out;
	{
		struct ssmf_cuda_adamw_hp hp = {1e-2, 0.9, 0.999, 1e-8, 0.1, 1, 0.5};
		for (int i = 0; i < m->n_tensors; i++)
			for (size_t k = 0; k < m->info[i].numel; k++)
				mask[m->info[i].offset + k] = m->info[i].decay ? 1.0f : 0.0f;
		memcpy(pcopy, m->params, m->n_params * sizeof(float));
		for (hp.step = 1; hp.step <= 2; hp.step++) {
			cpu_adamw(pcopy, buf, m0, v0, mask, m->n_params, &hp);
			if ((rc = DISPATCH(adamw, &hp, err, errlen)))
				goto out;
		}
		long n = DISPATCH(fetch, "params", 0, buf, big, err, errlen);
		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		compare(rep, "adamw.params", buf, pcopy, m->n_params, NULL, 1, 1, tf);
		if ((rc = DISPATCH(upload_params, m, err, errlen)))
			goto out;
	}
	/* ---- step mode: SF flows interleaved, up to SN per call, one reset ---- */
	{
		size_t ss = ssmf_step_state_size(m);
		float *st = calloc((size_t)SF * ss, sizeof(float));
		ssmf_real *sp[16];
		struct ssmf_record *frec = calloc((size_t)SF * T, sizeof *frec);
		int *pos = calloc((size_t)SF, sizeof(int));
		struct ssmf_step_ws *ws = ssmf_step_ws_new(m, SN, err, errlen);
		float rn_[16 * SSMF_N_COMP], gn_[16 * SSMF_N_COMP];
		float rl[16 * SSMF_N_LOGITS], gl[16 * SSMF_N_LOGITS];
		float *allr =
		    malloc(sizeof(float) * (size_t)SF * T * (SSMF_N_COMP + SSMF_N_LOGITS));
		float *allg =
		    malloc(sizeof(float) * (size_t)SF * T * (SSMF_N_COMP + SSMF_N_LOGITS));
		size_t na = 0;
		if (!st || !frec || !pos || !ws || !allr || !allg) {
			if (ws)
				snprintf(err, errlen, "out of memory");
			rc = SSMF_CUDA_E_FAIL;
		} else if (!(rc = DISPATCH(poison, err, errlen)) &&
		           !(rc = DISPATCH(step_reset, NULL, 0, err, errlen))) {
			for (int f = 0; f < SF; f++)
				random_flow(rng, frec + (size_t)f * T, T, (uint32_t)f);
			int total = SF * T, done = 0, reset_done = 0;
			while (done < total && !rc) {
				struct ssmf_record r[16];
				int32_t slot[16];
				int n = 0, start = (int)(rnd(rng) % (unsigned)SF);
				int want = 1 + (int)(rnd(rng) % (unsigned)SN);
				for (int k = 0; k < SF && n < want; k++) {
					int f = (start + k) % SF;
					if (pos[f] >= T || rnd(rng) % 4 == 0)
						continue;
					r[n] = frec[(size_t)f * T + pos[f]];
					slot[n] = f;
					sp[n] = st + (size_t)f * ss;
					pos[f]++;
					n++;
				}
				done = 0;
				for (int f = 0; f < SF; f++)
					done += pos[f];
				if (!n)
					continue;
				if ((rc = ssmf_step(m, ws, sp, r, n, rn_, rl, err, errlen)) ||
				    (rc = DISPATCH(step, r, slot, n, gn_, gl, err, errlen)))
					break;
				for (int i = 0; i < n; i++) {
					memcpy(allr + na, rn_ + i * SSMF_N_COMP, SSMF_N_COMP * 4);
					memcpy(allg + na, gn_ + i * SSMF_N_COMP, SSMF_N_COMP * 4);
					na += SSMF_N_COMP;
					memcpy(allr + na, rl + i * SSMF_N_LOGITS,
					       SSMF_N_LOGITS * 4);
					memcpy(allg + na, gl + i * SSMF_N_LOGITS,
					       SSMF_N_LOGITS * 4);
					na += SSMF_N_LOGITS;
				}
				if (!reset_done && done > total / 2) {
					int32_t rs = 1 % SF;
					ssmf_step_state_reset(m, st + (size_t)rs * ss);
					rc = DISPATCH(step_reset, &rs, 1, err, errlen);
					reset_done = 1;
				}
			}
			if (!rc) {
				compare(rep, "step.nll+logits", allg, allr, na, NULL, 1, 1, tf);
				double mx = 0;
				int bad = 0;
				for (int f = 0; f < SF && !rc; f++) {
					rc = DISPATCH(step_state, f, buf, 0, err, errlen);
					for (size_t x = 0; x < ss && !rc; x++) {
						double e =
						    fabs((double)buf[x] - st[(size_t)f * ss + x]);
						if (!(e == e))
							bad = 1;
						double den = fabs(st[(size_t)f * ss + x]);
						e /= den > 1 ? den : 1;
						mx = e > mx ? e : mx;
					}
				}
				float z = 0, e = bad ? NAN : (float)mx;
				compare(rep, "step.state", &e, &z, 1, NULL, 1, 1, tf);
			}
		}
		free(allr);
		free(allg);
		ssmf_step_ws_free(ws);
		free(pos);
		free(frec);
		free(st);
	}
out:
	be_free(be);
	ssmf_acts_free(a);
	free(rec);
	free(len);
	free(label);
	free(buf);
	free(m0);
	free(v0);
	free(mask);
	free(pcopy);
	ssmf_model_free(m);
	return rc;
}
