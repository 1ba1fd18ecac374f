/* bundle_check.c - open a model bundle and check all of it (`ssmflow info`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/bundle.h"

static int config_of(const struct ssmf_st_file *f, struct ssmf_config *cfg, char *why,
                     size_t whylen)
{
	const char *s = ssmf_st_meta(f, "config");
	cJSON *j = s ? cJSON_Parse(s) : NULL;
	if (!j) {
		snprintf(why, whylen, "metadata has no readable 'config'");
		return -1;
	}
	static const char *const keys[] = {"config_version", "d_model", "n_layer",
	                                   "d_state",        "expand",  "headdim"};
	double v[6];
	int rc = 0;
	for (int i = 0; i < 6 && rc == 0; i++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
		if (!cJSON_IsNumber(x) || x->valuedouble != (double)(int32_t)x->valuedouble) {
			snprintf(why, whylen, "config has no integer '%s'", keys[i]);
			rc = -1;
		} else {
			v[i] = x->valuedouble;
		}
	}
	cJSON_Delete(j);
	if (rc)
		return -1;
	if ((int)v[0] != SSMF_CONFIG_VERSION) {
		snprintf(why, whylen, "config version %d, this build reads %d", (int)v[0],
		         SSMF_CONFIG_VERSION);
		return -1;
	}
	*cfg = (struct ssmf_config){(int32_t)v[1], (int32_t)v[2], (int32_t)v[3], (int32_t)v[4],
	                            (int32_t)v[5]};
	char e[200];
	if (ssmf_config_validate(cfg, e, sizeof e) != 0) {
		snprintf(why, whylen, "invalid config: %s", e);
		return -1;
	}
	return 0;
}

static const struct ssmf_st_tensor *find(const struct ssmf_st_file *f, const char *name)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->t[i].name, name) == 0)
			return &f->t[i];
	return NULL;
}

/* Coverage: each tensor the config needs, with its shape and the bundle's dtype;
 * nothing else but padding. */
static int check_coverage(const struct ssmf_st_file *f, const struct ssmf_config *cfg, int dtype,
                          char *why, size_t whylen)
{
	int nw = ssmf_bundle_expected(cfg, NULL, 0);
	struct ssmf_bundle_tensor *want = calloc((size_t)nw, sizeof *want);
	if (!want) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	ssmf_bundle_expected(cfg, want, nw);
	int rc = 0;
	for (int k = 0; k < nw && rc == 0; k++) {
		const struct ssmf_st_tensor *t = find(f, want[k].name);
		if (!t) {
			snprintf(why, whylen, "tensor '%s' is missing", want[k].name);
			rc = -1;
		} else if (t->dtype != dtype || t->ndim != want[k].ndim ||
		           t->shape[0] != (uint64_t)want[k].shape[0] ||
		           (t->ndim == 2 && t->shape[1] != (uint64_t)want[k].shape[1])) {
			snprintf(why, whylen, "tensor '%s' is %s (%llu,%llu), expected %s (%d,%d)",
			         t->name, ssmf_st_dtype_name(t->dtype),
			         (unsigned long long)t->shape[0],
			         (unsigned long long)(t->ndim == 2 ? t->shape[1] : 0),
			         ssmf_st_dtype_name(dtype), want[k].shape[0], want[k].shape[1]);
			rc = -1;
		}
	}
	for (int i = 0; i < f->n && rc == 0; i++) {
		int known = ssmf_st_is_padding(f->t[i].name);
		for (int k = 0; k < nw && !known; k++)
			known = strcmp(want[k].name, f->t[i].name) == 0;
		if (!known) {
			snprintf(why, whylen, "tensor '%s' is not part of the model", f->t[i].name);
			rc = -1;
		}
	}
	free(want);
	return rc;
}

int ssmf_bundle_open(const char *path, struct ssmf_st_file *f, struct ssmf_config *cfg, char *err,
                     size_t errlen)
{
	if (ssmf_st_read(path, f, err, errlen) != 0)
		return -1;
	char why[512];
	const char *fmt = ssmf_st_meta(f, "format"), *ver = ssmf_st_meta(f, "format_version");
	const char *dts = ssmf_st_meta(f, "dtype"), *rv = ssmf_st_meta(f, "record_version");
	int dtype = ssmf_st_dtype_parse(dts);
	if (!fmt || strcmp(fmt, SSMF_BUNDLE_FORMAT) != 0) {
		snprintf(why, sizeof why,
		         "a safetensors file, but not an ssmflow model bundle "
		         "(metadata 'format' is not '" SSMF_BUNDLE_FORMAT "')");
	} else if (!ver || atoi(ver) != SSMF_BUNDLE_VERSION) {
		snprintf(why, sizeof why, "bundle format version %s, this build reads %d",
		         ver ? ver : "(none)", SSMF_BUNDLE_VERSION);
	} else if (!rv || atoi(rv) != (int)SSMF_RECORD_VERSION) {
		snprintf(why, sizeof why, "record version %s, this build has %u",
		         rv ? rv : "(none)", SSMF_RECORD_VERSION);
	} else if (dtype != SSMF_ST_F32 && dtype != SSMF_ST_BF16 && dtype != SSMF_ST_F16) {
		snprintf(why, sizeof why, "metadata 'dtype' %s is not F32, BF16 or F16",
		         dts ? dts : "(none)");
	} else if (!ssmf_st_meta(f, "input_norm") || !ssmf_st_meta(f, "norm_consts")) {
		snprintf(why, sizeof why, "metadata lacks the input normalisation");
	} else if (config_of(f, cfg, why, sizeof why) == 0 &&
	           ssmf_st_check_aligned(f, why, sizeof why) == 0 &&
	           check_coverage(f, cfg, dtype, why, sizeof why) == 0) {
		return 0;
	}
	snprintf(err, errlen, "%s: %s", path, why);
	ssmf_st_free(f);
	return -1;
}
