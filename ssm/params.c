/* params.c - the parameter table: one contiguous buffer, named tensors, init.
 *
 * A leaf under model.c (which allocates the model and calls the table, the pointers and
 * the init here): nothing here calls back into model.c, sequence.c or the ops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/internal.h"

static void add(struct ssmf_param_info *info, int *n, size_t *off, const char *name, int d0, int d1,
                int decay)
{
	if (info) {
		struct ssmf_param_info *t = &info[*n];
		snprintf(t->name, sizeof t->name, "%s", name);
		t->ndim = d1 ? 2 : 1;
		t->shape[0] = d0;
		t->shape[1] = d1;
		t->offset = *off;
		t->numel = (size_t)d0 * (size_t)(d1 ? d1 : 1);
		t->decay = decay;
	}
	*off += (size_t)d0 * (size_t)(d1 ? d1 : 1);
	(*n)++;
}

/* The order here is the order of the buffer, of the checkpoint and of export. */
int ssmf_param_table(const struct ssmf_dims *d, struct ssmf_param_info *info, size_t *n_params)
{
	int n = 0;
	size_t off = 0;
	char name[SSMF_MAX_NAME];
	add(info, &n, &off, "embed.weight", d->D, d->F, 1);
	add(info, &n, &off, "embed.bias", d->D, 0, 0);
	for (int l = 0; l < d->L; l++) {
#define LNAME(s) (snprintf(name, sizeof name, "layers.%d.%s", l, s), name)
		add(info, &n, &off, LNAME("norm.weight"), d->D, 0, 0);
		add(info, &n, &off, LNAME("mixer.in_proj.weight"), d->DP, d->D, 1);
		add(info, &n, &off, LNAME("mixer.dt_bias"), d->H, 0, 0);
		add(info, &n, &off, LNAME("mixer.a_bias"), d->H, 0, 0);
		add(info, &n, &off, LNAME("mixer.gap_w"), d->H, 0, 0);
		add(info, &n, &off, LNAME("mixer.B_norm.weight"), d->N, 0, 0);
		add(info, &n, &off, LNAME("mixer.B_bias"), d->N, 0, 0);
		add(info, &n, &off, LNAME("mixer.C_norm.weight"), d->N, 0, 0);
		add(info, &n, &off, LNAME("mixer.C_bias"), d->N, 0, 0);
		add(info, &n, &off, LNAME("mixer.D"), d->H, 0, 0);
		add(info, &n, &off, LNAME("mixer.out_proj.weight"), d->D, d->DI, 1);
#undef LNAME
	}
	add(info, &n, &off, "norm_f.weight", d->D, 0, 0);
	add(info, &n, &off, "head.weight", SSMF_N_LOGITS, d->D, 1);
	add(info, &n, &off, "head.bias", SSMF_N_LOGITS, 0, 0);
	add(info, &n, &off, "cls_head.weight", 1, d->D, 1);
	add(info, &n, &off, "cls_head.bias", 1, 0, 0);
	if (n_params)
		*n_params = off;
	return n;
}

void ssmf_param_pointers(const struct ssmf_dims *d, ssmf_real *base, struct ssmf_params *p)
{
	ssmf_real *x = base;
#define TAKE(dst, n) (dst = x, x += (n))
	TAKE(p->embed_w, (size_t)d->D * d->F);
	TAKE(p->embed_b, d->D);
	for (int l = 0; l < d->L; l++) {
		struct ssmf_layer_params *lp = &p->layer[l];
		TAKE(lp->norm_w, d->D);
		TAKE(lp->in_proj, (size_t)d->DP * d->D);
		TAKE(lp->dt_bias, d->H);
		TAKE(lp->a_bias, d->H);
		TAKE(lp->gap_w, d->H);
		TAKE(lp->bnorm_w, d->N);
		TAKE(lp->bnorm_b, d->N);
		TAKE(lp->cnorm_w, d->N);
		TAKE(lp->cnorm_b, d->N);
		TAKE(lp->Dskip, d->H);
		TAKE(lp->out_proj, (size_t)d->D * d->DI);
	}
	TAKE(p->normf_w, d->D);
	TAKE(p->head_w, (size_t)SSMF_N_LOGITS * d->D);
	TAKE(p->head_b, SSMF_N_LOGITS);
	TAKE(p->cls_w, d->D);
	TAKE(p->cls_b, 1);
#undef TAKE
}

/* splitmix64: a small, well-mixed generator; init must not depend on libc's rand. */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uniform01(uint64_t *s)
{
	return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static void fill_uniform(ssmf_real *x, size_t n, double bound, uint64_t *s)
{
	for (size_t i = 0; i < n; i++)
		x[i] = R((2.0 * uniform01(s) - 1.0) * bound);
}

static void fill_const(ssmf_real *x, size_t n, double v)
{
	for (size_t i = 0; i < n; i++)
		x[i] = R(v);
}

/* softplus^-1(y) = log(expm1(y)) */
static double inv_softplus(double y)
{
	return y > 20.0 ? y : log(expm1(y));
}

void ssmf_model_init(struct ssmf_model *m, uint64_t seed)
{
	const struct ssmf_dims *d = &m->d;
	struct ssmf_params *p = &m->p;
	uint64_t s = seed ^ 0x5353464d4f44454cull; /* "SSFMODEL" */
	fill_uniform(p->embed_w, (size_t)d->D * d->F, 1.0 / sqrt((double)d->F), &s);
	fill_const(p->embed_b, d->D, 0.0);
	for (int l = 0; l < d->L; l++) {
		struct ssmf_layer_params *lp = &p->layer[l];
		fill_const(lp->norm_w, d->D, 1.0);
		fill_uniform(lp->in_proj, (size_t)d->DP * d->D, 1.0 / sqrt((double)d->D), &s);
		for (int h = 0; h < d->H; h++) {
			/* DT at init: log-uniform in [1e-3, 1e-1], via inverse softplus */
			double dt = exp(log(1e-3) + uniform01(&s) * (log(1e-1) - log(1e-3)));
			lp->dt_bias[h] = R(inv_softplus(dt));
			/* -A at init uniform in [1, 16] as in Mamba's A_log init */
			lp->a_bias[h] = R(inv_softplus(1.0 + 15.0 * uniform01(&s)));
			/* rate of the real gap in DT: log-uniform in [1e-3, 1e-1] per head, so
			 * heads start with different wall-clock memories */
			double rate = exp(log(1e-3) + uniform01(&s) * (log(1e-1) - log(1e-3)));
			lp->gap_w[h] = R(inv_softplus(rate));
		}
		fill_const(lp->bnorm_w, d->N, 1.0);
		fill_const(lp->bnorm_b, d->N, 1.0);
		fill_const(lp->cnorm_w, d->N, 1.0);
		fill_const(lp->cnorm_b, d->N, 1.0);
		fill_const(lp->Dskip, d->H, 1.0);
		fill_uniform(lp->out_proj, (size_t)d->D * d->DI,
		             1.0 / sqrt((double)d->DI) / sqrt(2.0 * d->L), &s);
	}
	fill_const(p->normf_w, d->D, 1.0);
	fill_uniform(p->head_w, (size_t)SSMF_N_LOGITS * d->D, 1.0 / sqrt((double)d->D), &s);
	fill_const(p->head_b, SSMF_N_LOGITS, 0.0);
	fill_uniform(p->cls_w, d->D, 1.0 / sqrt((double)d->D), &s);
	fill_const(p->cls_b, 1, 0.0);
}
