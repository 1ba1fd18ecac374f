/* hparams.c - defaults, checks, and the JSON form stored in checkpoints. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "train/hparams.h"

void train_hparams_default(struct train_hparams *hp)
{
	memset(hp, 0, sizeof *hp);
	ssmf_config_default(&hp->model);
	hp->seed = 1;
	hp->epochs = 20;
	hp->max_steps = 0;
	hp->batch_size = 32;
	hp->max_len = 256;
	hp->lr = 3e-3;
	hp->min_lr_ratio = 0.1;
	hp->warmup = 100;
	hp->weight_decay = 0.1;
	hp->beta1 = 0.9;
	hp->beta2 = 0.95;
	hp->eps = 1e-8;
	hp->grad_clip = 1.0;
	hp->patience = 3;
	hp->min_delta = 1e-4;
	hp->val_fraction = 0.1;
	hp->supervised = 0;
	hp->sup_weight = 1.0;
	hp->checkpoint_every = 200;
}

int train_hparams_validate(const struct train_hparams *hp, char *err, size_t errlen)
{
#define NEED(cond, ...)                                                                            \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			snprintf(err, errlen, __VA_ARGS__);                                        \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)
	char why[200];
	if (ssmf_config_validate(&hp->model, why, sizeof why) < 0) {
		snprintf(err, errlen, "model config: %s", why);
		return -1;
	}
	NEED(hp->epochs >= 1, "--epochs must be at least 1");
	NEED(hp->max_steps >= 0, "--max-steps must be 0 or more");
	NEED(hp->batch_size >= 1 && hp->batch_size <= 65536, "--batch-size must be 1..65536");
	NEED(hp->max_len >= 2 && hp->max_len <= 65536, "--max-len must be 2..65536");
	NEED(isfinite(hp->lr) && hp->lr > 0, "--lr must be a positive number");
	NEED(hp->min_lr_ratio >= 0 && hp->min_lr_ratio <= 1, "--min-lr-ratio must be in [0, 1]");
	NEED(hp->warmup >= 0, "--warmup must be 0 or more");
	NEED(hp->weight_decay >= 0 && isfinite(hp->weight_decay),
	     "--weight-decay must be 0 or more");
	NEED(hp->beta1 >= 0 && hp->beta1 < 1, "--beta1 must be in [0, 1)");
	NEED(hp->beta2 >= 0 && hp->beta2 < 1, "--beta2 must be in [0, 1)");
	NEED(hp->eps > 0 && isfinite(hp->eps), "--eps must be positive");
	NEED(hp->grad_clip >= 0 && isfinite(hp->grad_clip), "--grad-clip must be 0 or more");
	NEED(hp->patience >= 0, "--patience must be 0 or more");
	NEED(hp->min_delta >= 0 && isfinite(hp->min_delta), "--min-delta must be 0 or more");
	NEED(hp->val_fraction >= 0 && hp->val_fraction < 1, "--val-fraction must be in [0, 1)");
	NEED(hp->sup_weight >= 0 && isfinite(hp->sup_weight), "--sup-weight must be 0 or more");
	NEED(hp->checkpoint_every >= 0, "--checkpoint-every must be 0 or more");
#undef NEED
	return 0;
}

/* One table drives both directions, so a new field cannot be forgotten on one side. */
enum kind { K_I32, K_I64, K_U64, K_F64 };
struct field {
	const char *name;
	enum kind kind;
	size_t off;
};
#define F(name, kind)                                                                              \
	{                                                                                          \
#name, kind, offsetof(struct train_hparams, name)                                  \
	}
#define FM(name)                                                                                   \
	{                                                                                          \
#name, K_I32, offsetof(struct train_hparams, model.name)                           \
	}
static const struct field fields[] = {
    FM(d_model),
    FM(n_layer),
    FM(d_state),
    FM(expand),
    FM(headdim),
    F(seed, K_U64),
    F(epochs, K_I32),
    F(max_steps, K_I64),
    F(batch_size, K_I32),
    F(max_len, K_I32),
    F(lr, K_F64),
    F(min_lr_ratio, K_F64),
    F(warmup, K_I32),
    F(weight_decay, K_F64),
    F(beta1, K_F64),
    F(beta2, K_F64),
    F(eps, K_F64),
    F(grad_clip, K_F64),
    F(patience, K_I32),
    F(min_delta, K_F64),
    F(val_fraction, K_F64),
    F(supervised, K_I32),
    F(sup_weight, K_F64),
    F(checkpoint_every, K_I32),
};
#undef F
#undef FM

cJSON *train_hparams_to_json(const struct train_hparams *hp)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	const char *base = (const char *)hp;
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		const void *p = base + fields[i].off;
		double v = 0;
		char text[32];
		switch (fields[i].kind) {
		case K_I32:
			v = *(const int32_t *)p;
			break;
		case K_I64:
			v = (double)*(const int64_t *)p;
			break;
		case K_U64:
			/* a 64-bit seed does not fit a JSON number exactly: keep it as text */
			snprintf(text, sizeof text, "%llu",
			         (unsigned long long)*(const uint64_t *)p);
			if (!cJSON_AddStringToObject(j, fields[i].name, text))
				goto fail;
			continue;
		case K_F64:
			v = *(const double *)p;
			break;
		}
		if (!cJSON_AddNumberToObject(j, fields[i].name, v))
			goto fail;
	}
	return j;
fail:
	cJSON_Delete(j);
	return NULL;
}

int train_hparams_from_json(const cJSON *j, struct train_hparams *hp, char *err, size_t errlen)
{
	memset(hp, 0, sizeof *hp);
	char *base = (char *)hp;
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, fields[i].name);
		void *p = base + fields[i].off;
		if (fields[i].kind == K_U64) {
			unsigned long long x;
			char end;
			if (!cJSON_IsString(v) || sscanf(v->valuestring, "%llu%c", &x, &end) != 1)
				goto bad;
			*(uint64_t *)p = x;
			continue;
		}
		if (!cJSON_IsNumber(v))
			goto bad;
		switch (fields[i].kind) {
		case K_I32:
			*(int32_t *)p = (int32_t)v->valuedouble;
			break;
		case K_I64:
			*(int64_t *)p = (int64_t)v->valuedouble;
			break;
		case K_F64:
			*(double *)p = v->valuedouble;
			break;
		case K_U64:
			break;
		}
		continue;
	bad:
		snprintf(err, errlen, "hyper-parameter '%s' is missing or malformed",
		         fields[i].name);
		return -1;
	}
	return 0;
}
