/* adamw.c - the optimizer. Single-threaded on purpose: 62k parameters take microseconds,
 * and a fixed loop order keeps the update bit-identical for every thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ssm/adamw.h"

int ssmf_adamw_init(struct ssmf_adamw *o, const struct ssmf_model *m)
{
	memset(o, 0, sizeof *o);
	o->n = ssmf_model_num_params(m);
	o->m = calloc(o->n, sizeof *o->m);
	o->v = calloc(o->n, sizeof *o->v);
	o->decay = calloc(o->n, 1);
	if (!o->m || !o->v || !o->decay) {
		ssmf_adamw_free(o);
		return -1;
	}
	for (int i = 0; i < ssmf_model_num_tensors(m); i++) {
		const struct ssmf_param_info *t = ssmf_model_tensor(m, i);
		memset(o->decay + t->offset, t->decay ? 1 : 0, t->numel);
	}
	return 0;
}

void ssmf_adamw_free(struct ssmf_adamw *o)
{
	free(o->m);
	free(o->v);
	free(o->decay);
	memset(o, 0, sizeof *o);
}

long ssmf_adamw_update(struct ssmf_adamw *o, ssmf_real *params, const ssmf_real *grads,
                       const struct ssmf_adamw_step *s)
{
	const float b1 = (float)s->beta1, b2 = (float)s->beta2;
	const float c1 = (float)(1.0 / (1.0 - pow(s->beta1, (double)s->t)));
	const float c2 = (float)(1.0 / (1.0 - pow(s->beta2, (double)s->t)));
	const float lr = (float)s->lr, eps = (float)s->eps, scale = (float)s->grad_scale;
	const float wd = (float)(s->lr * s->weight_decay);
	long bad = 0;
	for (size_t i = 0; i < o->n; i++) {
		float g = (float)grads[i] * scale;
		float m = b1 * o->m[i] + (1 - b1) * g;
		float v = b2 * o->v[i] + (1 - b2) * g * g;
		o->m[i] = m;
		o->v[i] = v;
		float p = (float)params[i];
		/* decoupled weight decay: shrink the weight, not the gradient */
		if (o->decay[i])
			p -= wd * p;
		p -= lr * (m * c1) / (sqrtf(v * c2) + eps);
		params[i] = p;
		bad += !isfinite(p);
	}
	return bad;
}

double ssmf_grad_norm(const ssmf_real *grads, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)grads[i] * (double)grads[i];
	return sqrt(s);
}
