/* st_read.c - read a safetensors file and check it as the official reader does,
 * then (ssmf_st_check_aligned) our 64-byte layout on top. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/read_file.h"
#include "export/safetensors.h"

#define ST_MAX_FILE ((uint64_t)1 << 34)

static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	int k = snprintf(err, errlen, "%s: ", path);
	if (k >= 0 && (size_t)k < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
		va_end(ap);
		/* Names come from the file: a control character in one (JSON "\n") must
		 * not break the one-line error. */
		for (char *c = err + k; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
	}
	return -1;
}

/* A JSON number that is a non-negative integer below 2^53. */
static int as_u64(const cJSON *j, uint64_t *v)
{
	if (!cJSON_IsNumber(j))
		return -1;
	double d = j->valuedouble;
	if (!(d >= 0 && d < 9007199254740992.0) || floor(d) != d)
		return -1;
	*v = (uint64_t)d;
	return 0;
}

static int parse_entry(const cJSON *e, struct ssmf_st_tensor *t, uint64_t data_len,
                       const char *path, char *err, size_t errlen)
{
	const char *nm = e->string;
	if (strlen(nm) >= SSMF_ST_MAX_NAME)
		return fail(err, errlen, path, "tensor name of %zu bytes is too long", strlen(nm));
	strcpy(t->name, nm);
	if (!cJSON_IsObject(e))
		return fail(err, errlen, path, "tensor '%s': entry is not an object", nm);
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
	const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
	if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of))
		return fail(err, errlen, path, "tensor '%s': needs dtype, shape and data_offsets",
		            nm);
	t->dtype = ssmf_st_dtype_parse(dt->valuestring);
	if (t->dtype < 0)
		return fail(err, errlen, path, "tensor '%s': dtype %s is not F32, BF16, F16 or U8",
		            nm, dt->valuestring);
	t->ndim = cJSON_GetArraySize(sh);
	if (t->ndim > SSMF_ST_MAX_DIMS)
		return fail(err, errlen, path, "tensor '%s': %d dimensions, at most %d", nm,
		            t->ndim, SSMF_ST_MAX_DIMS);
	uint64_t bytes = (uint64_t)ssmf_st_dtype_size(t->dtype);
	int d = 0;
	for (const cJSON *x = sh->child; x; x = x->next, d++) {
		if (as_u64(x, &t->shape[d]) != 0)
			return fail(err, errlen, path, "tensor '%s': bad shape", nm);
		if (t->shape[d] && bytes > ST_MAX_FILE / t->shape[d])
			return fail(err, errlen, path, "tensor '%s': shape too large", nm);
		bytes *= t->shape[d];
	}
	if (cJSON_GetArraySize(of) != 2 || as_u64(of->child, &t->begin) != 0 ||
	    as_u64(of->child->next, &t->end) != 0 || t->begin > t->end)
		return fail(err, errlen, path, "tensor '%s': bad data_offsets", nm);
	if (t->end > data_len)
		return fail(err, errlen, path,
		            "tensor '%s' ends at byte %llu of a %llu-byte data buffer (truncated?)",
		            nm, (unsigned long long)t->end, (unsigned long long)data_len);
	if (t->end - t->begin != bytes)
		return fail(
		    err, errlen, path,
		    "tensor '%s': %llu bytes in data_offsets, its dtype and shape need %llu", nm,
		    (unsigned long long)(t->end - t->begin), (unsigned long long)bytes);
	return 0;
}

static int by_begin(const void *a, const void *b)
{
	const struct ssmf_st_tensor *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

static int parse_header(struct ssmf_st_file *f, const char *path, char *err, size_t errlen)
{
	const char *js = (const char *)f->buf + 8, *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(js, (size_t)f->header_len, &end, 0);
	if (!root)
		return fail(err, errlen, path, "header is not valid JSON (near byte %ld)",
		            (long)(8 + (cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - js : 0)));
	for (; end && end < js + f->header_len; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
			cJSON_Delete(root);
			return fail(err, errlen, path, "header has data after its JSON object");
		}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return fail(err, errlen, path, "header is not a JSON object");
	}
	uint64_t data_len = f->size - f->data_start;
	int n = cJSON_GetArraySize(root);
	f->t = calloc((size_t)(n ? n : 1), sizeof *f->t);
	if (!f->t) {
		cJSON_Delete(root);
		return fail(err, errlen, path, "out of memory");
	}
	int rc = 0, nmeta = 0;
	cJSON *meta = NULL;
	for (cJSON *e = root->child; e; e = e->next)
		if (strcmp(e->string, "__metadata__") == 0) {
			meta = e;
			nmeta++;
		}
	if (meta && (nmeta > 1 || !cJSON_IsObject(meta)))
		rc = fail(err, errlen, path, "__metadata__ is %s",
		          nmeta > 1 ? "given twice" : "not an object");
	for (const cJSON *m = meta ? meta->child : NULL; m && rc == 0; m = m->next)
		if (!cJSON_IsString(m))
			rc = fail(err, errlen, path, "__metadata__ value '%s' is not a string",
			          m->string);
	if (meta && rc == 0)
		f->metadata = cJSON_DetachItemViaPointer(root, meta);
	for (cJSON *e = root->child; e && rc == 0; e = e->next) {
		rc = parse_entry(e, &f->t[f->n], data_len, path, err, errlen);
		for (int i = 0; rc == 0 && i < f->n; i++)
			if (strcmp(f->t[i].name, e->string) == 0)
				rc =
				    fail(err, errlen, path, "tensor '%s' appears twice", e->string);
		f->n++;
	}
	cJSON_Delete(root);
	return rc;
}

int ssmf_st_read(const char *path, struct ssmf_st_file *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	if (ssmf_read_file(path, ST_MAX_FILE, "a model bundle", &f->buf, &f->size, err, errlen) !=
	    0)
		return -1;
	int rc = -1;
	if (f->size < 8) {
		fail(err, errlen, path, "truncated: %llu bytes, not a safetensors file",
		     (unsigned long long)f->size);
		goto out;
	}
	for (int b = 0; b < 8; b++)
		f->header_len |= (uint64_t)f->buf[b] << (8 * b);
	/* An 8-byte file has no byte 8: it is refused as truncated just below. */
	if (f->header_len < 2 || f->header_len > SSMF_ST_MAX_HEADER ||
	    (f->size > 8 && f->buf[8] != '{')) {
		fail(err, errlen, path, "not a safetensors file (header length %llu%s)",
		     (unsigned long long)f->header_len,
		     f->size > 8 && f->buf[8] != '{' ? ", no JSON object" : "");
		goto out;
	}
	if (8 + f->header_len > f->size) {
		fail(err, errlen, path, "truncated: the header needs %llu bytes, the file has %llu",
		     (unsigned long long)(8 + f->header_len), (unsigned long long)f->size);
		goto out;
	}
	f->data_start = 8 + f->header_len;
	if (parse_header(f, path, err, errlen) != 0)
		goto out;
	qsort(f->t, (size_t)f->n, sizeof *f->t, by_begin);
	uint64_t at = 0;
	for (int i = 0; i < f->n; i++) {
		if (f->t[i].begin != at) {
			fail(err, errlen, path,
			     "tensor '%s' starts at byte %llu of the data buffer: %s", f->t[i].name,
			     (unsigned long long)f->t[i].begin,
			     f->t[i].begin > at ? "a gap before it"
			                        : "it overlaps the previous one");
			goto out;
		}
		f->t[i].data = f->buf + f->data_start + f->t[i].begin;
		at = f->t[i].end;
	}
	if (at != f->size - f->data_start) {
		fail(err, errlen, path, "tensors cover %llu bytes of a %llu-byte data buffer",
		     (unsigned long long)at, (unsigned long long)(f->size - f->data_start));
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		ssmf_st_free(f);
	return rc;
}

int ssmf_st_check_aligned(const struct ssmf_st_file *f, char *err, size_t errlen)
{
	if (f->data_start % SSMF_ST_ALIGN)
		return fail(err, errlen, "not aligned",
		            "the data buffer starts at byte %llu, not a multiple of %u",
		            (unsigned long long)f->data_start, SSMF_ST_ALIGN);
	for (int i = 0; i < f->n; i++) {
		const struct ssmf_st_tensor *t = &f->t[i];
		if (!ssmf_st_is_padding(t->name)) {
			if (t->begin % SSMF_ST_ALIGN)
				return fail(err, errlen, "not aligned",
				            "tensor '%s' starts at file byte %llu, not a multiple "
				            "of %u",
				            t->name, (unsigned long long)(f->data_start + t->begin),
				            SSMF_ST_ALIGN);
			continue;
		}
		uint64_t n = t->end - t->begin;
		int needed = t->begin % SSMF_ST_ALIGN && (t->begin + n) % SSMF_ST_ALIGN == 0;
		if (t->dtype != SSMF_ST_U8 || t->ndim != 1 || !needed || i + 1 == f->n)
			return fail(err, errlen, "not aligned",
			            "padding tensor '%s' (%llu bytes at %llu) is not filler "
			            "before an aligned tensor",
			            t->name, (unsigned long long)n, (unsigned long long)t->begin);
		for (uint64_t k = 0; k < n; k++)
			if (((const unsigned char *)t->data)[k])
				return fail(err, errlen, "not aligned",
				            "padding tensor '%s' is not zero", t->name);
	}
	return 0;
}

const char *ssmf_st_meta(const struct ssmf_st_file *f, const char *key)
{
	const cJSON *v = f->metadata ? cJSON_GetObjectItemCaseSensitive(f->metadata, key) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void ssmf_st_free(struct ssmf_st_file *f)
{
	free(f->buf);
	free(f->t);
	cJSON_Delete(f->metadata);
	memset(f, 0, sizeof *f);
}
