/* flowset.c - loads the flows of one or more datasets into memory, cut at max_len.
 *
 * Memory is flows x min(packets, max_len) x 32 bytes: a 256-packet cap keeps a million
 * packets of training data at 32 MB. Reading everything once up front keeps every epoch's
 * random access off the (compressed, chunked) HDF5 files. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/reader.h"
#include "train/flowset.h"
#include "train/train.h"

uint64_t train_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* The dataset's captures: what the model's provenance names. */
char *train_inputs_json(const struct ssmf_dataset *ds)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < ssmf_dataset_ninputs(ds); i++) {
		const struct ssmf_input_info *in = ssmf_dataset_input(ds, i);
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddStringToObject(o, "name", base_name(in->path)) ||
		    !cJSON_AddStringToObject(o, "sha256", in->sha256) ||
		    !cJSON_AddNumberToObject(o, "packets", (double)in->packets)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
		cJSON_AddItemToArray(a, o);
	}
	char *s = a ? cJSON_PrintUnformatted(a) : NULL;
	cJSON_Delete(a);
	return s;
}

int train_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 1024;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* A flow's first record in the file beside its index (qsort has no user pointer in C11). */
struct offset_key {
	uint64_t offset;
	size_t idx;
};

static int by_packet_offset(const void *a, const void *b)
{
	const struct offset_key *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Copies the records of flows [first, fs->n) out of the dataset. Reading flow by flow
 * would decompress a whole HDF5 chunk for every flow; instead the flows are visited in
 * file order through a window of WINDOW records, so each chunk is read about once. */
#define WINDOW ((uint64_t)1 << 18)
static int read_records(struct train_flowset *fs, size_t first, struct ssmf_dataset *ds,
                        const struct ssmf_flow_summary *fl, char *err, size_t errlen)
{
	size_t n = fs->n - first;
	uint64_t total = ssmf_dataset_npackets(ds);
	size_t *ord = malloc((n ? n : 1) * sizeof *ord);
	struct offset_key *keys = malloc((n ? n : 1) * sizeof *keys);
	struct ssmf_record *win = malloc(WINDOW * sizeof *win);
	if (!ord || !keys || !win) {
		free(ord);
		free(keys);
		free(win);
		snprintf(err, errlen, "%s: out of memory", ssmf_dataset_path(ds));
		return TRAIN_E_INTERNAL;
	}
	for (size_t i = 0; i < n; i++)
		keys[i] =
		    (struct offset_key){fl[fs->flows[first + i].row].packet_offset, first + i};
	qsort(keys, n, sizeof *keys, by_packet_offset);
	for (size_t i = 0; i < n; i++)
		ord[i] = keys[i].idx;
	free(keys);
	uint64_t w0 = 0, w1 = 0; /* the window holds records [w0, w1) */
	int rc = 0;
	for (size_t k = 0; k < n && rc == 0; k++) {
		const struct train_flow *f = &fs->flows[ord[k]];
		uint64_t off = fl[f->row].packet_offset, len = (uint64_t)f->len;
		if (off < w0 || off + len > w1) {
			w0 = off;
			w1 = off + WINDOW < total ? off + WINDOW : total;
			if (len > w1 - w0 ||
			    ssmf_dataset_read_packets(ds, w0, w1 - w0, win, err, errlen) < 0) {
				if (len > w1 - w0)
					snprintf(err, errlen, "%s: flow %u lies outside /packets",
					         ssmf_dataset_path(ds), f->row);
				rc = TRAIN_E_INPUT;
				break;
			}
		}
		memcpy(fs->rec + f->rec_off, win + (off - w0), len * sizeof *win);
	}
	free(ord);
	free(win);
	return rc;
}

static int load_one(struct train_flowset *fs, uint32_t di, const char *path, int max_len,
                    size_t *cap_flows, size_t *cap_rec, char *err, size_t errlen)
{
	struct train_source *src = &fs->src[di];
	struct ssmf_dataset *ds = ssmf_dataset_open(path, err, errlen);
	if (!ds)
		return TRAIN_E_INPUT;
	int rc = TRAIN_E_INTERNAL;
	int32_t *raw = NULL, *lab = NULL;
	src->path = strdup(path);
	src->flows = ssmf_dataset_nflows(ds);
	src->packets = ssmf_dataset_npackets(ds);
	src->inputs_json = train_inputs_json(ds);
	if (!src->path || !src->inputs_json)
		goto oom;
	if (src->flows == 0) {
		snprintf(err, errlen, "%s: the dataset has no flows", path);
		rc = TRAIN_E_INPUT;
		goto out;
	}
	const struct ssmf_flow_summary *fl = ssmf_dataset_flows(ds);
	size_t nf = (size_t)src->flows;
	raw = malloc(nf * sizeof *raw);
	lab = malloc(nf * sizeof *lab);
	if (!raw || !lab)
		goto oom;
	for (size_t i = 0; i < nf; i++)
		raw[i] = fl[i].label;
	if (train_labels_map(ds, raw, nf, lab, err, errlen) < 0) {
		rc = TRAIN_E_INPUT;
		goto out;
	}
	fs->fingerprint = train_fnv(fs->fingerprint, &src->flows, sizeof src->flows);
	fs->fingerprint = train_fnv(fs->fingerprint, &src->packets, sizeof src->packets);
	size_t first = fs->n;
	for (size_t i = 0; i < nf; i++) {
		if (fl[i].packet_count < 2)
			continue;
		int32_t len =
		    fl[i].packet_count < (uint32_t)max_len ? (int32_t)fl[i].packet_count : max_len;
		if (train_grow((void **)&fs->flows, cap_flows, fs->n + 1, sizeof *fs->flows) < 0 ||
		    train_grow((void **)&fs->rec, cap_rec, fs->n_rec + (size_t)len,
		               sizeof *fs->rec) < 0)
			goto oom;
		struct train_flow *f = &fs->flows[fs->n];
		f->first_ts_ns = fl[i].first_ts_ns;
		f->rec_off = fs->n_rec;
		f->len = len;
		f->label = lab[i];
		f->dataset = di;
		f->row = (uint32_t)i;
		fs->fingerprint =
		    train_fnv(fs->fingerprint, &f->first_ts_ns, sizeof f->first_ts_ns);
		fs->fingerprint = train_fnv(fs->fingerprint, &f->len, sizeof f->len);
		fs->fingerprint = train_fnv(fs->fingerprint, &f->label, sizeof f->label);
		fs->fingerprint = train_fnv(fs->fingerprint, &f->row, sizeof f->row);
		fs->n_rec += (size_t)len;
		fs->n++;
		src->used_flows++;
		src->labelled += f->label >= 0;
	}
	if ((rc = read_records(fs, first, ds, fl, err, errlen)) < 0)
		goto out;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
out:
	free(raw);
	free(lab);
	ssmf_dataset_close(ds);
	return rc;
}

int train_flowset_init(struct train_flowset *fs, int n, uint64_t basis, char *err, size_t errlen)
{
	memset(fs, 0, sizeof *fs);
	fs->fingerprint = basis;
	fs->src = calloc(n > 0 ? (size_t)n : 1, sizeof *fs->src);
	if (!fs->src) {
		snprintf(err, errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	fs->n_src = (size_t)n;
	return 0;
}

int train_flowset_load(struct train_flowset *fs, const char *const *paths, int n, int max_len,
                       char *err, size_t errlen)
{
	int rc0 = train_flowset_init(fs, n, 0xcbf29ce484222325ull, err, errlen);
	if (rc0 < 0)
		return rc0;
	size_t cap_flows = 0, cap_rec = 0;
	for (int i = 0; i < n; i++) {
		int rc =
		    load_one(fs, (uint32_t)i, paths[i], max_len, &cap_flows, &cap_rec, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void train_flowset_free(struct train_flowset *fs)
{
	for (size_t i = 0; i < fs->n_src; i++) {
		free(fs->src[i].path);
		cJSON_free(fs->src[i].inputs_json);
	}
	free(fs->src);
	free(fs->flows);
	free(fs->rec);
	memset(fs, 0, sizeof *fs);
}
