/* adamw.h - AdamW over the model's one parameter buffer, with weight decay only on the
 * tensors ssm flags for it (matrices; never A, D, dt bias, norms or biases: DESIGN §7). */
#ifndef SSMF_ADAMW_H
#define SSMF_ADAMW_H

#include <stddef.h>
#include <stdint.h>

#include "ssm/ssm.h"

struct ssmf_adamw {
	size_t n;
	float *m, *v;   /* (n) first and second moments */
	uint8_t *decay; /* (n) 1 where weight decay applies */
};

struct ssmf_adamw_step {
	long t; /* 1-based step, for the bias corrections */
	double lr;
	double beta1, beta2, eps, weight_decay;
	double grad_scale; /* gradient clipping folded in: 1 or clip / norm */
};

int ssmf_adamw_init(struct ssmf_adamw *o, const struct ssmf_model *m);
void ssmf_adamw_free(struct ssmf_adamw *o);
/* Updates params from grads; returns the number of parameters that became non-finite. */
long ssmf_adamw_update(struct ssmf_adamw *o, ssmf_real *params, const ssmf_real *grads,
                       const struct ssmf_adamw_step *s);
/* Global L2 norm, summed in double in buffer order (deterministic). */
double ssmf_grad_norm(const ssmf_real *grads, size_t n);

#endif
