/* hparams.c - defaults, checks, and the JSON form stored in checkpoints. */
#include <math.h>
#include <stddef.h>
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

/* One table drives the JSON both ways and the bounds, so a new field cannot be forgotten on
 * one side. */
enum kind { K_I32, K_I64, K_U64, K_F64 };
#define KIND_I32  K_I32
#define KIND_I64  K_I64
#define KIND_U64  K_U64
#define KIND_F64  K_F64
#define KIND_FLAG K_I32
struct field {
	const char *name, *option;
	enum kind kind;
	size_t off;
	double lo, hi;
	int open_lo, open_hi;
};
#define ROW(key, option, short_name, type, member, lo, hi, open_lo, open_hi, help, note)           \
	{#key, option, KIND_##type, offsetof(struct train_hparams, member),                        \
	 lo,   hi,     open_lo,     open_hi},
static const struct field fields[] = {TRAIN_HPARAMS(ROW)};
#undef ROW

static double field_value(const struct field *f, const struct train_hparams *hp)
{
	const void *p = (const char *)hp + f->off;
	switch (f->kind) {
	case K_I32:
		return *(const int32_t *)p;
	case K_I64:
		return (double)*(const int64_t *)p;
	case K_U64:
		return (double)*(const uint64_t *)p;
	case K_F64:
		return *(const double *)p;
	}
	return NAN;
}

/* "1 or more", "more than 0", "1..65536", "in [0, 1)" */
static void bounds_text(const struct field *f, char *buf, size_t len)
{
	if (isinf(f->hi))
		snprintf(buf, len, f->open_lo ? "more than %g" : "%g or more", f->lo);
	else if (f->kind == K_F64)
		snprintf(buf, len, "in %c%g, %g%c", f->open_lo ? '(' : '[', f->lo, f->hi,
		         f->open_hi ? ')' : ']');
	else
		snprintf(buf, len, "%g..%g", f->lo, f->hi);
}

int train_hparams_validate(const struct train_hparams *hp, char *err, size_t errlen)
{
	char why[200];
	if (ssmf_config_validate(&hp->model, why, sizeof why) < 0) {
		snprintf(err, errlen, "model config: %s", why);
		return -1;
	}
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		const struct field *f = &fields[i];
		double v = field_value(f, hp);
		if (f->kind == K_U64)
			continue;
		if (isfinite(v) && v >= f->lo && v <= f->hi && !(f->open_lo && v == f->lo) &&
		    !(f->open_hi && v == f->hi))
			continue;
		bounds_text(f, why, sizeof why);
		snprintf(err, errlen, "--%s must be %s", f->option, why);
		return -1;
	}
	return 0;
}

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
