/* hostset.c - host sequences as training data (hostset.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/first_records.h"
#include "datasets/reader.h"
#include "features/host_events.h"
#include "train/hostset.h"
#include "train/train.h"

/* One dataset's host sequences (one address space). */
static int dataset_events(struct ssmf_dataset *ds, struct ssmf_host_sequences *out, char *err,
                          size_t errlen)
{
	size_t n = (size_t)ssmf_dataset_nflows(ds);
	const struct ssmf_flow_summary *fl = ssmf_dataset_flows(ds);
	struct ssmf_record *first = malloc((n ? n : 1) * sizeof *first);
	struct ssmf_host_flow *f = malloc((n ? n : 1) * sizeof *f);
	int rc = TRAIN_E_INTERNAL;
	memset(out, 0, sizeof *out);
	if (!first || !f)
		goto oom;
	if (ssmf_dataset_first_records(ds, first, err, errlen) < 0) {
		rc = TRAIN_E_INPUT;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		first[i].ts_ns = fl[i].first_ts_ns; /* as score's host level builds them */
		first[i].ip_proto = fl[i].protocol;
		f[i] = (struct ssmf_host_flow){&first[i],
		                               fl[i].src_addr,
		                               fl[i].dst_addr,
		                               fl[i].ip_version,
		                               fl[i].src_port,
		                               fl[i].dst_port,
		                               0,
		                               fl[i].flow_id};
	}
	if (ssmf_host_sequences_build(out, f, n) < 0)
		goto oom;
	rc = 0;
	goto done;
oom:
	snprintf(err, errlen, "%s: out of memory", ssmf_dataset_path(ds));
done:
	free(first);
	free(f);
	return rc;
}

static int add_pieces(struct train_flowset *fs, uint32_t di, const struct ssmf_host_sequences *ev,
                      int max_len, size_t *cap_flows, size_t *cap_rec)
{
	for (size_t h = 0; h < ev->n_hosts; h++) {
		const struct ssmf_host_event *e = ev->ev + ev->start[h];
		size_t len = ev->start[h + 1] - ev->start[h] + 1; /* the start row too */
		for (size_t p0 = 0; p0 < len; p0 += (size_t)max_len) {
			size_t pl = len - p0 < (size_t)max_len ? len - p0 : (size_t)max_len;
			if (pl < 2)
				continue;
			if (train_grow((void **)&fs->flows, cap_flows, fs->n + 1,
			               sizeof *fs->flows) < 0 ||
			    train_grow((void **)&fs->rec, cap_rec, fs->n_rec + pl,
			               sizeof *fs->rec) < 0)
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
			    train_fnv(fs->fingerprint, &f->first_ts_ns, sizeof f->first_ts_ns);
			fs->fingerprint = train_fnv(fs->fingerprint, &f->len, sizeof f->len);
			fs->fingerprint = train_fnv(fs->fingerprint, &f->row, sizeof f->row);
			fs->n_rec += pl;
			fs->src[di].used_flows++;
		}
	}
	return 0;
}

int train_hostset_load(struct train_flowset *fs, const char *const *paths, int n, int max_len,
                       char *err, size_t errlen)
{
	int rc0 = train_flowset_init(fs, n, 0x84222325cbf29ce4ull, err, errlen);
	if (rc0 < 0)
		return rc0;
	size_t cap_flows = 0, cap_rec = 0;
	for (int i = 0; i < n; i++) {
		struct ssmf_dataset *ds = ssmf_dataset_open(paths[i], err, errlen);
		if (!ds)
			return TRAIN_E_INPUT;
		struct train_source *src = &fs->src[i];
		src->path = strdup(paths[i]);
		src->flows = ssmf_dataset_nflows(ds);
		src->packets = ssmf_dataset_npackets(ds);
		src->inputs_json = train_inputs_json(ds);
		struct ssmf_host_sequences ev;
		int rc = !src->path || !src->inputs_json ? TRAIN_E_INTERNAL
		                                         : dataset_events(ds, &ev, err, errlen);
		if (rc == TRAIN_E_INTERNAL && (!src->path || !src->inputs_json))
			snprintf(err, errlen, "out of memory");
		ssmf_dataset_close(ds);
		if (rc < 0)
			return rc;
		fs->fingerprint = train_fnv(fs->fingerprint, &src->flows, sizeof src->flows);
		rc = add_pieces(fs, (uint32_t)i, &ev, max_len, &cap_flows, &cap_rec);
		ssmf_host_sequences_free(&ev);
		if (rc < 0) {
			snprintf(err, errlen, "out of memory");
			return TRAIN_E_INTERNAL;
		}
	}
	return 0;
}

int train_host_profile_fit(const char *const *paths, int n, struct ssmf_host_profile *p, char *err,
                           size_t errlen)
{
	struct ssmf_profile_fit fit = {0};
	for (int i = 0; i < n; i++) {
		struct ssmf_dataset *ds = ssmf_dataset_open(paths[i], err, errlen);
		if (!ds)
			return TRAIN_E_INPUT;
		struct ssmf_host_sequences ev;
		int rc = dataset_events(ds, &ev, err, errlen);
		ssmf_dataset_close(ds);
		if (rc < 0)
			return rc;
		for (size_t e = 0; e < ev.start[ev.n_hosts]; e++)
			ssmf_profile_fit_add(&fit, &ev.ev[e]);
		ssmf_host_sequences_free(&ev);
	}
	if (ssmf_profile_fit_done(&fit, p) < 0) {
		snprintf(err, errlen, "no host events in the training data");
		return TRAIN_E_INPUT;
	}
	return 0;
}
