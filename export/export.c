/* export.c - checkpoint to model bundle. Refuses anything it cannot describe:
 * the checkpoint loader rejects unknown versions and damage, and every tensor of
 * the model must be one this bundle version names, with the shape it expects. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/bundle.h"
#include "export/halfconv.h"
#include "features/host_profile.h"
#include "features/ssmf_host_event.h"
#include "ssm/evidence.h"

#define MAX_TENSORS (16 + 11 * 64)

/* Every model tensor is expected and every expected tensor is in the model. */
static int check_tensors(const struct ssmf_model *m, const char *path, char *err, size_t errlen)
{
	static struct ssmf_bundle_tensor want[MAX_TENSORS];
	int nw = ssmf_bundle_expected(ssmf_model_config(m), want, MAX_TENSORS);
	int nm = ssmf_model_num_tensors(m);
	if (nw > MAX_TENSORS) {
		snprintf(err, errlen, "%s: %d tensors, this export handles at most %d", path, nw,
		         MAX_TENSORS);
		return -1;
	}
	for (int i = 0; i < nm; i++) {
		const struct ssmf_param_info *p = ssmf_model_tensor(m, i);
		int k = 0;
		while (k < nw && strcmp(want[k].name, p->name) != 0)
			k++;
		if (k == nw) {
			snprintf(err, errlen,
			         "%s: tensor '%s' is not part of bundle format %d; refusing to "
			         "export a model it cannot describe",
			         path, p->name, SSMF_BUNDLE_VERSION);
			return -1;
		}
		if (p->ndim != want[k].ndim || p->shape[0] != want[k].shape[0] ||
		    (p->ndim == 2 && p->shape[1] != want[k].shape[1])) {
			snprintf(err, errlen,
			         "%s: tensor '%s' has shape (%d,%d), bundle format %d expects "
			         "(%d,%d); refusing to export",
			         path, p->name, p->shape[0], p->ndim == 2 ? p->shape[1] : 0,
			         SSMF_BUNDLE_VERSION, want[k].shape[0], want[k].shape[1]);
			return -1;
		}
	}
	if (nm != nw) {
		snprintf(err, errlen, "%s: the model has %d tensors, bundle format %d expects %d",
		         path, nm, SSMF_BUNDLE_VERSION, nw);
		return -1;
	}
	return 0;
}

/* The model's parameters in the bundle's dtype; a value the dtype cannot hold is an
 * error, not a silent infinity. */
static void *convert(const struct ssmf_model *m, int dtype, const char *path, char *err,
                     size_t errlen)
{
	size_t n = ssmf_model_num_params(m);
	const ssmf_real *p = ssmf_model_params((struct ssmf_model *)m);
	int es = ssmf_st_dtype_size(dtype);
	unsigned char *out = malloc(n * (size_t)es + 1);
	if (!out) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		float v = (float)p[i];
		if (dtype == SSMF_ST_F32) {
			memcpy(out + 4 * i, &v, 4);
			continue;
		}
		uint16_t h = dtype == SSMF_ST_BF16 ? ssmf_f32_to_bf16(v) : ssmf_f32_to_f16(v);
		float back = dtype == SSMF_ST_BF16 ? ssmf_bf16_to_f32(h) : ssmf_f16_to_f32(h);
		if (!isfinite(back)) {
			int t = 0;
			while (t + 1 < ssmf_model_num_tensors(m) &&
			       ssmf_model_tensor(m, t + 1)->offset <= i)
				t++;
			snprintf(err, errlen, "%s: tensor '%s' holds %g, which %s cannot represent",
			         path, ssmf_model_tensor(m, t)->name, (double)v,
			         ssmf_st_dtype_name(dtype));
			free(out);
			return NULL;
		}
		memcpy(out + 2 * i, &h, 2);
	}
	return out;
}

/* The checkpoint's META section (training provenance), re-printed compactly; NULL when
 * there is none. A META that is not JSON is damage. */
static int provenance_of(struct ssmf_ckpt_section *meta, char **out, const char *path, char *err,
                         size_t errlen)
{
	*out = NULL;
	if (!meta->data)
		return 0;
	cJSON *j = cJSON_ParseWithLength(meta->data, (size_t)meta->size);
	if (!j) {
		snprintf(err, errlen, "%s: META section is not JSON (the file is damaged)", path);
		return -1;
	}
	*out = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!*out) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	return 0;
}

/* One level's bundle: m with its META text, "level" naming it in the metadata. */
/* The host level's activity profile as the bundle's "activity_profile" metadata (JSON). */
static int add_profile(cJSON *md, const struct ssmf_ckpt_section *sec, const char *ckpt_path,
                       char *err, size_t errlen)
{
	struct ssmf_host_profile p;
	char inner[256];
	if (ssmf_profile_decode(sec->data, (size_t)sec->size, &p, inner, sizeof inner) < 0) {
		snprintf(err, errlen, "%s: %s", ckpt_path, inner);
		return -2;
	}
	cJSON *j = cJSON_CreateObject(), *names = cJSON_AddArrayToObject(j, "counts");
	cJSON *mean = cJSON_AddArrayToObject(j, "mean"), *sd = cJSON_AddArrayToObject(j, "sd");
	cJSON *weight = cJSON_AddArrayToObject(j, "weight");
	for (int k = 0; k < p.counts && names && mean && sd && weight; k++) {
		cJSON_AddItemToArray(names, cJSON_CreateString(ssmf_profile_names[k]));
		cJSON_AddItemToArray(mean, cJSON_CreateNumber(p.mean[k]));
		cJSON_AddItemToArray(sd, cJSON_CreateNumber(p.sd[k]));
		cJSON_AddItemToArray(weight, cJSON_CreateNumber(ssmf_profile_weights[k]));
	}
	cJSON_AddNumberToObject(j, "margin", SSMF_PROFILE_MARGIN);
	cJSON_AddNumberToObject(j, "events", (double)p.events);
	char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
	int ok = txt && cJSON_AddStringToObject(md, "activity_profile", txt);
	cJSON_free(txt);
	cJSON_Delete(j);
	if (!ok) {
		snprintf(err, errlen, "out of memory");
		return -5;
	}
	return 0;
}

/* The packet level's evidence baseline as the bundle's "evidence" metadata (JSON). */
static int add_evidence(cJSON *md, const struct ssmf_ckpt_section *sec, const char *ckpt_path,
                        char *err, size_t errlen)
{
	struct ssmf_evidence e;
	char inner[256];
	if (ssmf_evidence_decode(sec->data, (size_t)sec->size, &e, inner, sizeof inner) < 0) {
		snprintf(err, errlen, "%s: %s", ckpt_path, inner);
		return -2;
	}
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "mean", e.mean);
	cJSON_AddNumberToObject(j, "sd", e.sd);
	cJSON_AddNumberToObject(j, "margin", SSMF_EVIDENCE_MARGIN);
	cJSON_AddNumberToObject(j, "flows", (double)e.flows);
	char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
	int ok = txt && cJSON_AddStringToObject(md, "evidence", txt);
	cJSON_free(txt);
	cJSON_Delete(j);
	if (!ok) {
		snprintf(err, errlen, "out of memory");
		return -5;
	}
	return 0;
}

/* calib: the level's calibration section, the packet level's EVIDENCE or the host level's
 * PROFILE (NULL or no data: none). */
static int export_level(const struct ssmf_model *m, struct ssmf_ckpt_section *meta,
                        const struct ssmf_ckpt_section *calib, const char *level,
                        const char *ckpt_path, const char *out_path,
                        const struct ssmf_export_opts *o, char *err, size_t errlen)
{
	int rc = -2;
	char *prov = NULL;
	void *data = NULL;
	cJSON *md = NULL;
	struct ssmf_st_tensor *t = NULL;
	if (check_tensors(m, ckpt_path, err, errlen) != 0 ||
	    provenance_of(meta, &prov, ckpt_path, err, errlen) != 0)
		goto out;
	data = convert(m, o->dtype, ckpt_path, err, errlen);
	int n = ssmf_model_num_tensors(m);
	t = calloc((size_t)n, sizeof *t);
	md = ssmf_bundle_metadata(ssmf_model_config(m), o->dtype, prov, o->software);
	if (!data || !t || !md || !cJSON_AddStringToObject(md, "level", level)) {
		if (data)
			snprintf(err, errlen, "%s: out of memory", out_path);
		rc = data ? -5 : -2;
		goto out;
	}
	if (strcmp(level, "host") == 0) {
		char v[16];
		snprintf(v, sizeof v, "%u", SSMF_HOST_EVENT_VERSION);
		if (!cJSON_AddStringToObject(md, "host_event_version", v)) {
			snprintf(err, errlen, "%s: out of memory", out_path);
			rc = -5;
			goto out;
		}
	}
	int crc = !calib || !calib->data       ? 0
	          : strcmp(level, "host") == 0 ? add_profile(md, calib, ckpt_path, err, errlen)
	                                       : add_evidence(md, calib, ckpt_path, err, errlen);
	if (crc) {
		rc = crc;
		goto out;
	}
	int es = ssmf_st_dtype_size(o->dtype);
	for (int i = 0; i < n; i++) {
		const struct ssmf_param_info *p = ssmf_model_tensor(m, i);
		snprintf(t[i].name, sizeof t[i].name, "%s", p->name);
		t[i].dtype = o->dtype;
		t[i].ndim = p->ndim;
		t[i].shape[0] = (uint64_t)p->shape[0];
		t[i].shape[1] = (uint64_t)p->shape[1];
		t[i].data = (unsigned char *)data + p->offset * (size_t)es;
	}
	rc = ssmf_st_write(out_path, t, n, md, err, errlen) == 0 ? 0 : -4;
out:
	cJSON_Delete(md);
	free(t);
	free(data);
	free(prov);
	return rc;
}

int ssmf_export(const char *ckpt_path, const char *out_path, const struct ssmf_export_opts *o,
                char *err, size_t errlen)
{
	if (o->dtype != SSMF_ST_F32 && o->dtype != SSMF_ST_BF16 && o->dtype != SSMF_ST_F16) {
		snprintf(err, errlen, "dtype %s cannot hold model parameters",
		         ssmf_st_dtype_name(o->dtype));
		return -1;
	}
	struct ssmf_ckpt_section sec[4] = {
	    {.name = "META"}, {.name = "HOST"}, {.name = "PROFILE"}, {.name = "EVIDENCE"}};
	struct ssmf_model *m = ssmf_checkpoint_load_sections(ckpt_path, sec, 4, err, errlen);
	if (!m)
		return -2;
	int rc = export_level(m, &sec[0], &sec[3], "packet", ckpt_path, out_path, o, err, errlen);
	char *derived = NULL;
	const char *host_path = o->host_path;
	if (rc == 0 && sec[1].data && !host_path) { /* OUT.safetensors -> OUT.host.safetensors */
		size_t n = strlen(out_path),
		       k = n > 12 && !strcmp(out_path + n - 12, ".safetensors") ? n - 12 : n;
		if ((derived = malloc(k + 18)) != NULL)
			snprintf(derived, k + 18, "%.*s.host.safetensors", (int)k, out_path);
		host_path = derived;
		if (!derived) {
			snprintf(err, errlen, "out of memory");
			rc = -5;
		}
	}
	if (rc == 0 && sec[1].data) {
		struct ssmf_ckpt_section hmeta = {.name = "META"};
		char inner[512];
		struct ssmf_model *hm = ssmf_checkpoint_load_mem_sections(
		    "host level", sec[1].data, (size_t)sec[1].size, &hmeta, 1, inner, sizeof inner);
		if (!hm) {
			snprintf(err, errlen, "%s: HOST section: %s", ckpt_path, inner);
			rc = -2;
		} else {
			rc = export_level(hm, &hmeta, &sec[2], "host", ckpt_path, host_path, o, err,
			                  errlen);
			if (rc == 0 && o->written_host)
				snprintf(o->written_host, o->written_host_len, "%s", host_path);
		}
		free(hmeta.data);
		ssmf_model_free(hm);
	}
	if (rc == 0 && o->host_path && !sec[1].data) {
		snprintf(err, errlen, "--host-output: %s has no host level", ckpt_path);
		rc = -2;
	}
	free(derived);
	free(sec[0].data);
	free(sec[1].data);
	free(sec[2].data);
	free(sec[3].data);
	ssmf_model_free(m);
	return rc;
}
