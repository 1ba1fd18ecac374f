/* bundle_meta.c - the bundle's __metadata__: every value a string, the structured
 * ones JSON text (numbers printed so they read back as the same double). */
#include <stdio.h>
#include <stdlib.h>

#include "export/bundle.h"

static const char *const norm_kinds[] = {"log1p", "linear", "bit", "equal", "proto_other"};

static void add_json(cJSON *meta, const char *key, cJSON *value)
{
	char *s = value ? cJSON_PrintUnformatted(value) : NULL;
	cJSON_Delete(value);
	if (s)
		cJSON_AddStringToObject(meta, key, s);
	free(s);
}

static void add_int(cJSON *meta, const char *key, long v)
{
	char s[32];
	snprintf(s, sizeof s, "%ld", v);
	cJSON_AddStringToObject(meta, key, s);
}

static void add_span(cJSON *o, const char *name, int begin, int width)
{
	cJSON *a = cJSON_AddArrayToObject(o, name);
	cJSON_AddItemToArray(a, cJSON_CreateNumber(begin));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(width));
}

static cJSON *config_json(const struct ssmf_config *c)
{
	struct ssmf_dims d;
	ssmf_config_dims(c, &d);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "config_version", SSMF_CONFIG_VERSION);
	cJSON_AddNumberToObject(o, "d_model", c->d_model);
	cJSON_AddNumberToObject(o, "n_layer", c->n_layer);
	cJSON_AddNumberToObject(o, "d_state", c->d_state);
	cJSON_AddNumberToObject(o, "expand", c->expand);
	cJSON_AddNumberToObject(o, "headdim", c->headdim);
	cJSON_AddNumberToObject(o, "d_inner", d.DI);
	cJSON_AddNumberToObject(o, "nheads", d.H);
	cJSON_AddNumberToObject(o, "nangles", d.NA);
	cJSON_AddNumberToObject(o, "d_proj", d.DP);
	cJSON_AddNumberToObject(o, "n_features", SSMF_N_FEATURES);
	cJSON_AddNumberToObject(o, "n_logits", SSMF_N_LOGITS);
	/* constants of the formulas in docs/model.md */
	cJSON_AddNumberToObject(o, "norm_eps", 1e-5);
	cJSON_AddNumberToObject(o, "a_min", 1e-4);
	/* in_proj output columns: [begin, width] */
	cJSON *sp = cJSON_AddObjectToObject(o, "in_proj_split");
	add_span(sp, "z", d.O_Z, d.DI);
	add_span(sp, "x", d.O_X, d.DI);
	add_span(sp, "B", d.O_B, d.N);
	add_span(sp, "C", d.O_C, d.N);
	add_span(sp, "dt", d.O_DT, d.H);
	add_span(sp, "a", d.O_A, d.H);
	add_span(sp, "lambda", d.O_LAM, d.H);
	add_span(sp, "theta", d.O_TH, d.NA);
	cJSON *lg = cJSON_AddObjectToObject(o, "logits");
	add_span(lg, "direction", SSMF_LOGIT_DIR, SSMF_N_DIR);
	add_span(lg, "size", SSMF_LOGIT_SIZE, SSMF_N_SIZE_BUCKETS);
	add_span(lg, "gap", SSMF_LOGIT_GAP, SSMF_N_GAP_BUCKETS);
	add_span(lg, "tcp_flags", SSMF_LOGIT_FLAGS, SSMF_N_TCP_BITS);
	static const char *const comps[SSMF_N_COMP] = {"direction", "size", "gap", "flags"};
	cJSON_AddItemToObject(o, "components", cJSON_CreateStringArray(comps, SSMF_N_COMP));
	return o;
}

static cJSON *norm_table_json(void)
{
	int n;
	const struct ssmf_norm_entry *t = ssmf_norm_table(&n);
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", t[i].name);
		cJSON_AddStringToObject(e, "field", t[i].field);
		cJSON_AddStringToObject(
		    e, "kind", t[i].kind >= 0 && t[i].kind <= 4 ? norm_kinds[t[i].kind] : "?");
		cJSON_AddNumberToObject(e, "arg", t[i].arg);
		cJSON_AddNumberToObject(e, "scale", t[i].scale);
		if (t[i].kind == SSMF_NORM_PROTO_OTHER) {
			/* "none of the protocols the EQUAL entries on this field name" */
			cJSON *not_in = cJSON_AddArrayToObject(e, "not_in");
			for (int j = 0; j < n; j++)
				if (t[j].kind == SSMF_NORM_EQUAL && t[j].field == t[i].field)
					cJSON_AddItemToArray(not_in, cJSON_CreateNumber(t[j].arg));
		}
		cJSON_AddItemToArray(a, e);
	}
	return a;
}

static cJSON *norm_consts_json(void)
{
	const struct ssmf_norm_constants *k = ssmf_norm_consts();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "gap_dt_scale", k->gap_dt_scale);
	cJSON *se = cJSON_AddArrayToObject(o, "size_edges");
	for (int i = 0; i < SSMF_N_SIZE_BUCKETS - 1; i++)
		cJSON_AddItemToArray(se, cJSON_CreateNumber(k->size_edges[i]));
	cJSON *ge = cJSON_AddArrayToObject(o, "gap_edges");
	for (int i = 0; i < SSMF_N_GAP_BUCKETS - 1; i++)
		cJSON_AddItemToArray(ge, cJSON_CreateNumber(k->gap_edges[i]));
	cJSON_AddNumberToObject(o, "record_version", k->record_version);
	return o;
}

cJSON *ssmf_bundle_metadata(const struct ssmf_config *c, int dtype, const char *provenance,
                            const char *software)
{
	cJSON *meta = cJSON_CreateObject();
	if (!meta)
		return NULL;
	cJSON_AddStringToObject(meta, "format", SSMF_BUNDLE_FORMAT);
	add_int(meta, "format_version", SSMF_BUNDLE_VERSION);
	add_json(meta, "config", config_json(c));
	add_int(meta, "record_version", SSMF_RECORD_VERSION);
	add_int(meta, "record_size", SSMF_RECORD_SIZE);
	add_json(meta, "input_norm", norm_table_json());
	add_json(meta, "norm_consts", norm_consts_json());
	cJSON_AddStringToObject(meta, "dtype", ssmf_st_dtype_name(dtype));
	cJSON_AddStringToObject(meta, "padding",
	                        "tensors named " SSMF_ST_PAD_PREFIX "K are U8 zero filler that "
	                        "keeps every tensor 64-byte aligned; ignore them");
	if (software)
		cJSON_AddStringToObject(meta, "software", software);
	if (provenance)
		cJSON_AddStringToObject(meta, "provenance", provenance);
	return meta;
}
