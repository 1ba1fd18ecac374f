/* st_write.c - a safetensors file with every tensor 64-byte aligned in the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/atomic_file.h"
#include "export/safetensors.h"

static const char *const dtype_names[SSMF_ST_NDTYPES] = {"F32", "BF16", "F16", "U8"};
static const int dtype_sizes[SSMF_ST_NDTYPES] = {4, 2, 2, 1};

const char *ssmf_st_dtype_name(int dtype)
{
	return dtype >= 0 && dtype < SSMF_ST_NDTYPES ? dtype_names[dtype] : "?";
}

int ssmf_st_dtype_size(int dtype)
{
	return dtype >= 0 && dtype < SSMF_ST_NDTYPES ? dtype_sizes[dtype] : 0;
}

int ssmf_st_dtype_parse(const char *name)
{
	for (int i = 0; i < SSMF_ST_NDTYPES; i++)
		if (name && strcmp(name, dtype_names[i]) == 0)
			return i;
	return -1;
}

int ssmf_st_is_padding(const char *name)
{
	return strncmp(name, SSMF_ST_PAD_PREFIX, strlen(SSMF_ST_PAD_PREFIX)) == 0;
}

static uint64_t nbytes_of(const struct ssmf_st_tensor *t)
{
	uint64_t n = (uint64_t)ssmf_st_dtype_size(t->dtype);
	for (int d = 0; d < t->ndim; d++)
		n *= t->shape[d];
	return n;
}

static cJSON *entry(const struct ssmf_st_tensor *t)
{
	cJSON *o = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *offs = cJSON_CreateArray();
	if (!o || !shape || !offs) {
		cJSON_Delete(o);
		cJSON_Delete(shape);
		cJSON_Delete(offs);
		return NULL;
	}
	cJSON_AddStringToObject(o, "dtype", ssmf_st_dtype_name(t->dtype));
	for (int d = 0; d < t->ndim; d++)
		cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
	cJSON_AddItemToObject(o, "shape", shape);
	cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)t->begin));
	cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)t->end));
	cJSON_AddItemToObject(o, "data_offsets", offs);
	return o;
}

/* The JSON header: metadata first, then tensors and padding in buffer order.
 * Returns the data buffer size, or 0 with *json NULL on failure. */
static uint64_t build_header(struct ssmf_st_tensor *t, int n, const cJSON *metadata, char **json)
{
	*json = NULL;
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return 0;
	if (metadata)
		cJSON_AddItemToObject(root, "__metadata__", cJSON_Duplicate(metadata, 1));
	uint64_t at = 0;
	int npad = 0;
	for (int i = 0; i < n; i++) {
		if (at % SSMF_ST_ALIGN) {
			struct ssmf_st_tensor pad = {.dtype = SSMF_ST_U8, .ndim = 1, .begin = at};
			pad.shape[0] = SSMF_ST_ALIGN - at % SSMF_ST_ALIGN;
			pad.end = at + pad.shape[0];
			snprintf(pad.name, sizeof pad.name, SSMF_ST_PAD_PREFIX "%d", npad++);
			cJSON_AddItemToObject(root, pad.name, entry(&pad));
			at = pad.end;
		}
		t[i].begin = at;
		t[i].end = at + nbytes_of(&t[i]);
		cJSON_AddItemToObject(root, t[i].name, entry(&t[i]));
		at = t[i].end;
	}
	*json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return *json ? at : 0;
}

int ssmf_st_write(const char *path, struct ssmf_st_tensor *t, int n, const cJSON *metadata,
                  char *err, size_t errlen)
{
	for (int i = 0; i < n; i++)
		if (t[i].dtype < 0 || t[i].dtype >= SSMF_ST_NDTYPES || t[i].ndim < 0 ||
		    t[i].ndim > SSMF_ST_MAX_DIMS || ssmf_st_is_padding(t[i].name)) {
			snprintf(err, errlen, "%s: cannot write tensor '%s'", path, t[i].name);
			return -1;
		}
	char *json;
	uint64_t data_len = build_header(t, n, metadata, &json);
	if (!json) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	size_t jlen = strlen(json);
	/* spaces after the JSON so the data buffer starts at a multiple of 64 */
	size_t hlen = jlen + (SSMF_ST_ALIGN - (8 + jlen) % SSMF_ST_ALIGN) % SSMF_ST_ALIGN;
	size_t total = 8 + hlen + (size_t)data_len;
	unsigned char *buf = calloc(1, total);
	if (!buf) {
		free(json);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	uint64_t h64 = hlen;
	for (int b = 0; b < 8; b++)
		buf[b] = (unsigned char)(h64 >> (8 * b));
	memcpy(buf + 8, json, jlen);
	memset(buf + 8 + jlen, ' ', hlen - jlen);
	free(json);
	for (int i = 0; i < n; i++)
		if (t[i].end > t[i].begin)
			memcpy(buf + 8 + hlen + t[i].begin, t[i].data, t[i].end - t[i].begin);
	int rc = ssmf_atomic_write_file(path, buf, total, err, errlen);
	free(buf);
	return rc;
}
