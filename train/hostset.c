/* hostset.c - host sequences as training data (hostset.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/first_records.h"
#include "datasets/reader.h"
#include "features/host_events.h"
#include "train/hostset.h"
#include "train/train.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* Merge sort of row indices by (first packet time, flow id, row): the order score's host
 * level sees them in (score/hosts.c). */
static int before(const struct ssmf_flow_summary *fl, size_t a, size_t b)
{
	if (fl[a].first_ts_ns != fl[b].first_ts_ns)
		return fl[a].first_ts_ns < fl[b].first_ts_ns;
	if (fl[a].flow_id != fl[b].flow_id)
		return fl[a].flow_id < fl[b].flow_id;
	return a < b;
}

static void sort_rows(size_t *v, size_t *tmp, size_t n, const struct ssmf_flow_summary *fl)
{
	if (n < 2)
		return;
	size_t h = n / 2, i = 0, j = h, k = 0;
	sort_rows(v, tmp, h, fl);
	sort_rows(v + h, tmp, n - h, fl);
	while (i < h && j < n)
		tmp[k++] = before(fl, v[j], v[i]) ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
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

/* One dataset's events, grouped by host in time order. */
struct events {
	struct ssmf_host_event *ev; /* grouped by host */
	size_t *start;              /* (hosts + 1) */
	size_t hosts;
};

static int dataset_events(struct ssmf_dataset *ds, struct events *out, char *err, size_t errlen)
{
	size_t n = (size_t)ssmf_dataset_nflows(ds);
	const struct ssmf_flow_summary *fl = ssmf_dataset_flows(ds);
	struct ssmf_record *first = malloc((n ? n : 1) * sizeof *first);
	size_t *ord = malloc((n ? n : 1) * sizeof *ord), *tmp = malloc((n ? n : 1) * sizeof *tmp);
	struct ssmf_host_event *all = malloc((n ? n : 1) * 2 * sizeof *all);
	struct ssmf_host_table *t = ssmf_host_table_new();
	size_t *cur = NULL;
	int rc = TRAIN_E_INTERNAL;
	memset(out, 0, sizeof *out);
	if (!first || !ord || !tmp || !all || !t)
		goto oom;
	if (ssmf_dataset_first_records(ds, first, err, errlen) < 0) {
		rc = TRAIN_E_INPUT;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	sort_rows(ord, tmp, n, fl);
	size_t ne = 0;
	for (size_t k = 0; k < n; k++) {
		const struct ssmf_flow_summary *s = &fl[ord[k]];
		struct ssmf_record rec = first[ord[k]];
		rec.ts_ns = s->first_ts_ns; /* as score's host level builds them */
		rec.ip_proto = s->protocol;
		struct ssmf_host_flow f = {
		    &rec, s->src_addr, s->dst_addr, s->ip_version, s->src_port, s->dst_port, 0};
		int got = ssmf_host_table_flow(t, &f, all + ne);
		if (got < 0)
			goto oom;
		ne += (size_t)got;
	}
	out->hosts = ssmf_host_table_count(t);
	out->start = calloc(out->hosts + 1, sizeof *out->start);
	out->ev = malloc((ne ? ne : 1) * sizeof *out->ev);
	cur = malloc((out->hosts ? out->hosts : 1) * sizeof *cur);
	if (!out->start || !out->ev || !cur)
		goto oom;
	for (size_t e = 0; e < ne; e++)
		out->start[all[e].host_id + 1]++;
	for (size_t h = 0; h < out->hosts; h++)
		out->start[h + 1] += out->start[h];
	memcpy(cur, out->start, out->hosts * sizeof *cur);
	for (size_t e = 0; e < ne; e++)
		out->ev[cur[all[e].host_id]++] = all[e];
	rc = 0;
	goto done;
oom:
	snprintf(err, errlen, "%s: out of memory", ssmf_dataset_path(ds));
done:
	free(first);
	free(ord);
	free(tmp);
	free(all);
	free(cur);
	ssmf_host_table_free(t);
	return rc;
}

static int add_pieces(struct train_flowset *fs, uint32_t di, const struct events *ev, int max_len,
                      size_t *cap_flows, size_t *cap_rec)
{
	for (size_t h = 0; h < ev->hosts; h++) {
		const struct ssmf_host_event *e = ev->ev + ev->start[h];
		size_t len = ev->start[h + 1] - ev->start[h] + 1; /* the start row too */
		for (size_t p0 = 0; p0 < len; p0 += (size_t)max_len) {
			size_t pl = len - p0 < (size_t)max_len ? len - p0 : (size_t)max_len;
			if (pl < 2)
				continue;
			if (grow((void **)&fs->flows, cap_flows, fs->n + 1, sizeof *fs->flows) <
			        0 ||
			    grow((void **)&fs->rec, cap_rec, fs->n_rec + pl, sizeof *fs->rec) < 0)
				return -1;
			struct ssmf_record *row = fs->rec + fs->n_rec;
			for (size_t r = 0; r < pl; r++) {
				size_t pos = p0 + r;
				if (pos == 0)
					ssmf_host_lower_start((uint32_t)h, e[0].ts_ns, &row[r]);
				else
					ssmf_host_lower_event(&e[pos - 1], (uint32_t)pos, &row[r]);
			}
			struct train_flow *f = &fs->flows[fs->n++];
			f->first_ts_ns = row[0].ts_ns;
			f->rec_off = fs->n_rec;
			f->len = (int32_t)pl;
			f->label = -1;
			f->dataset = di;
			f->row = (uint32_t)h;
			fs->fingerprint =
			    fnv(fs->fingerprint, &f->first_ts_ns, sizeof f->first_ts_ns);
			fs->fingerprint = fnv(fs->fingerprint, &f->len, sizeof f->len);
			fs->fingerprint = fnv(fs->fingerprint, &f->row, sizeof f->row);
			fs->n_rec += pl;
			fs->src[di].used_flows++;
		}
	}
	return 0;
}

int train_hostset_load(struct train_flowset *fs, const char *const *paths, int n, int max_len,
                       char *err, size_t errlen)
{
	memset(fs, 0, sizeof *fs);
	fs->fingerprint = 0x84222325cbf29ce4ull; /* differs from the packet level's */
	fs->src = calloc(n > 0 ? (size_t)n : 1, sizeof *fs->src);
	if (!fs->src) {
		snprintf(err, errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	fs->n_src = (size_t)n;
	size_t cap_flows = 0, cap_rec = 0;
	for (int i = 0; i < n; i++) {
		struct ssmf_dataset *ds = ssmf_dataset_open(paths[i], err, errlen);
		if (!ds)
			return TRAIN_E_INPUT;
		struct train_source *src = &fs->src[i];
		src->path = strdup(paths[i]);
		src->flows = ssmf_dataset_nflows(ds);
		src->packets = ssmf_dataset_npackets(ds);
		src->inputs_json = strdup("[]");
		struct events ev;
		int rc = !src->path || !src->inputs_json ? TRAIN_E_INTERNAL
		                                         : dataset_events(ds, &ev, err, errlen);
		if (rc == TRAIN_E_INTERNAL && (!src->path || !src->inputs_json))
			snprintf(err, errlen, "out of memory");
		ssmf_dataset_close(ds);
		if (rc < 0)
			return rc;
		fs->fingerprint = fnv(fs->fingerprint, &src->flows, sizeof src->flows);
		rc = add_pieces(fs, (uint32_t)i, &ev, max_len, &cap_flows, &cap_rec);
		free(ev.ev);
		free(ev.start);
		if (rc < 0) {
			snprintf(err, errlen, "out of memory");
			return TRAIN_E_INTERNAL;
		}
	}
	return 0;
}
