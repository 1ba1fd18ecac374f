/* model.c - the model's lifetime with its parameters: allocation (the parameter table and
 * buffers of params.c, the input stage's field lookup), init, accessors, the packed weights.
 *
 * Calls go one way: sequence.c (sequence mode) -> acts.c (its activations) -> model.c ->
 * params.c (table, pointers, init) and input.c (the field lookup); step.c and checkpoint.c
 * call model.c too. params.c and the ops (mixer_prep.c, ...) call none of these back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/internal.h"

struct ssmf_model *ssmf_model_alloc(const struct ssmf_config *cfg, char *err, size_t errlen)
{
	if (ssmf_config_validate(cfg, err, errlen) < 0)
		return NULL;
	struct ssmf_model *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	ssmf_config_dims(cfg, &m->d);
	m->n_tensors = ssmf_param_table(&m->d, NULL, &m->n_params);
	m->info = calloc((size_t)m->n_tensors, sizeof *m->info);
	m->params = aligned_alloc(64, ((m->n_params * sizeof(ssmf_real) + 63) / 64) * 64);
	m->grads = aligned_alloc(64, ((m->n_params * sizeof(ssmf_real) + 63) / 64) * 64);
	if (!m->info || !m->params || !m->grads) {
		snprintf(err, errlen, "out of memory for %zu parameters", m->n_params);
		ssmf_model_free(m);
		return NULL;
	}
	ssmf_param_table(&m->d, m->info, NULL);
	memset(m->params, 0, m->n_params * sizeof(ssmf_real));
	memset(m->grads, 0, m->n_params * sizeof(ssmf_real));
	ssmf_param_pointers(&m->d, m->params, &m->p);
	ssmf_param_pointers(&m->d, m->grads, &m->g);
	if (input_fields_resolve(&m->input, err, errlen) < 0) {
		ssmf_model_free(m);
		return NULL;
	}
	return m;
}

struct ssmf_model *ssmf_model_new(const struct ssmf_config *cfg, uint64_t seed, char *err,
                                  size_t errlen)
{
	struct ssmf_model *m = ssmf_model_alloc(cfg, err, errlen);
	if (m)
		ssmf_model_init(m, seed);
	return m;
}

void ssmf_model_free(struct ssmf_model *m)
{
	if (!m)
		return;
	free(m->info);
	free(m->params);
	free(m->grads);
	free(m);
}

const struct ssmf_config *ssmf_model_config(const struct ssmf_model *m)
{
	return &m->cfg;
}

size_t ssmf_model_num_params(const struct ssmf_model *m)
{
	return m->n_params;
}

ssmf_real *ssmf_model_params(struct ssmf_model *m)
{
	return m->params;
}

ssmf_real *ssmf_model_grads(struct ssmf_model *m)
{
	return m->grads;
}

int ssmf_model_num_tensors(const struct ssmf_model *m)
{
	return m->n_tensors;
}

const struct ssmf_param_info *ssmf_model_tensor(const struct ssmf_model *m, int i)
{
	return i >= 0 && i < m->n_tensors ? &m->info[i] : NULL;
}

int ssmf_model_find_tensor(const struct ssmf_model *m, const char *name)
{
	for (int i = 0; i < m->n_tensors; i++)
		if (!strcmp(m->info[i].name, name))
			return i;
	return -1;
}

void ssmf_zero_grad(struct ssmf_model *m)
{
	memset(m->grads, 0, m->n_params * sizeof(ssmf_real));
}

size_t ssmf_wt_size(const struct ssmf_dims *d)
{
	size_t n = linear_packed_size(d->D, d->F) + linear_packed_size(SSMF_N_LOGITS, d->D);
	for (int l = 0; l < d->L; l++)
		n += linear_packed_size(d->DP, d->D) + linear_packed_size(d->D, d->DI);
	return n;
}

void ssmf_wt_build(struct ssmf_wt *wt, ssmf_real *buf, const struct ssmf_model *m)
{
	const struct ssmf_dims *d = &m->d;
	ssmf_real *x = buf;
	wt->embed = x;
	linear_pack(x, m->p.embed_w, d->D, d->F);
	x += linear_packed_size(d->D, d->F);
	for (int l = 0; l < d->L; l++) {
		wt->in_proj[l] = x;
		linear_pack(x, m->p.layer[l].in_proj, d->DP, d->D);
		x += linear_packed_size(d->DP, d->D);
		wt->out_proj[l] = x;
		linear_pack(x, m->p.layer[l].out_proj, d->D, d->DI);
		x += linear_packed_size(d->D, d->DI);
	}
	wt->head = x;
	linear_pack(x, m->p.head_w, SSMF_N_LOGITS, d->D);
}
