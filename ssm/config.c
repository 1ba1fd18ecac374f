/* config.c - model configuration: defaults, validation, derived sizes. */
#include <stdio.h>

#include "ssm/internal.h"

void ssmf_config_default(struct ssmf_config *cfg)
{
	cfg->d_model = 64;
	cfg->n_layer = 2;
	cfg->d_state = 16;
	cfg->expand = 2;
	cfg->headdim = 16;
}

int ssmf_config_validate(const struct ssmf_config *c, char *err, size_t errlen)
{
	if (c->d_model < 1 || c->d_model > 8192) {
		snprintf(err, errlen, "d_model %d out of range 1..8192", (int)c->d_model);
		return -1;
	}
	if (c->n_layer < 1 || c->n_layer > SSMF_MAX_LAYERS) {
		snprintf(err, errlen, "n_layer %d out of range 1..%d", (int)c->n_layer,
		         SSMF_MAX_LAYERS);
		return -1;
	}
	if (c->d_state < 2 || c->d_state > 256 || c->d_state % 2) {
		snprintf(err, errlen, "d_state %d must be even, 2..256", (int)c->d_state);
		return -1;
	}
	if (c->expand < 1 || c->expand > 16) {
		snprintf(err, errlen, "expand %d out of range 1..16", (int)c->expand);
		return -1;
	}
	if (c->headdim < 1 || c->headdim > 1024 || (c->d_model * c->expand) % c->headdim) {
		snprintf(err, errlen, "headdim %d must divide d_inner = expand*d_model = %d",
		         (int)c->headdim, (int)(c->d_model * c->expand));
		return -1;
	}
	if (c->d_state * c->headdim > 16384) {
		snprintf(err, errlen, "d_state * headdim = %d exceeds 16384",
		         (int)(c->d_state * c->headdim));
		return -1;
	}
	return 0;
}

void ssmf_config_dims(const struct ssmf_config *c, struct ssmf_dims *d)
{
	d->D = c->d_model;
	d->L = c->n_layer;
	d->N = c->d_state;
	d->DI = c->expand * c->d_model;
	d->P = c->headdim;
	d->H = d->DI / d->P;
	d->NA = d->N / 2;
	d->F = SSMF_N_FEATURES;
	/* in_proj output columns: z | x | B | C | dt | a | lambda | theta */
	d->O_Z = 0;
	d->O_X = d->O_Z + d->DI;
	d->O_B = d->O_X + d->DI;
	d->O_C = d->O_B + d->N;
	d->O_DT = d->O_C + d->N;
	d->O_A = d->O_DT + d->H;
	d->O_LAM = d->O_A + d->H;
	d->O_TH = d->O_LAM + d->H;
	d->DP = d->O_TH + d->NA;
}
