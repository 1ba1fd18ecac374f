#include "score/inputs.h"

#include <stdio.h>
#include <string.h>

#include "score/scorer_impl.h"

int ssmf_is_dataset(const char *path)
{
	static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
	unsigned char b[8];
	if (strcmp(path, "-") == 0)
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(b, 1, 8, f);
	fclose(f);
	return n == 8 && memcmp(b, sig, 8) == 0;
}

struct capture_run {
	struct ssmf_scorer *sc;
	const struct ssmf_score_observer *obs;
};

static int flow_end_step(void *user, const struct ssmf_flow_summary *s,
                         const struct ssmf_record *records)
{
	(void)records; /* step mode: the records went to the scorer as they came */
	struct capture_run *x = user;
	return ssmf_scorer_flow_end(x->sc, s);
}

static int flow_end_sequence(void *user, const struct ssmf_flow_summary *s,
                             const struct ssmf_record *records)
{
	struct capture_run *x = user;
	return ssmf_scorer_flow_records(x->sc, s, records);
}

static int flow_chunk(void *user, uint32_t flow_id, const struct ssmf_record *records, uint32_t n)
{
	struct capture_run *x = user;
	return ssmf_scorer_flow_chunk(x->sc, flow_id, records, n);
}

static int record(void *user, const struct ssmf_record *r)
{
	struct capture_run *x = user;
	return ssmf_scorer_record(x->sc, r);
}

static void input_started(void *user, size_t index, const char *path, uint32_t first_flow_id)
{
	struct capture_run *x = user;
	(void)index;
	ssmf_scorer_set_input(x->sc, path, first_flow_id);
}

static void warn(void *user, const char *msg)
{
	struct capture_run *x = user;
	if (x->obs->warn)
		x->obs->warn(x->obs->user, msg);
}

static int should_stop(void *user)
{
	struct capture_run *x = user;
	return x->obs->should_stop && x->obs->should_stop(x->obs->user);
}

static void progress(void *user, uint64_t packets, uint64_t bytes_read, uint64_t flows)
{
	struct capture_run *x = user;
	if (x->obs->progress)
		x->obs->progress(x->obs->user, packets, bytes_read, flows);
}

int ssmf_scorer_captures(struct ssmf_scorer *sc, const char *const *paths, size_t n,
                         const char *filter, const struct ssmf_flow_params *fp,
                         const struct ssmf_score_observer *obs, struct ssmf_capture_result *res)
{
	struct capture_run x = {.sc = sc, .obs = obs};
	int step = sc->o.mode == SSMF_SCORE_STEP;
	struct ssmf_flow_params p = *fp;
	/* step mode: records go to the scorer as they come, none are kept; sequence mode:
	 * they wait in the table, a chunk at a time */
	p.max_packets = step ? 1 : (uint32_t)sc->o.chunk_packets;
	p.extra_bytes_per_flow = ssmf_scorer_state_bytes(sc);
	struct ssmf_capture_sinks sinks = {.user = &x,
	                                   .flow_end = step ? flow_end_step : flow_end_sequence,
	                                   .chunk = step ? NULL : flow_chunk,
	                                   .record = step ? record : NULL,
	                                   .input_started = input_started,
	                                   .warn = warn,
	                                   .should_stop = should_stop,
	                                   .progress = progress};
	int rc = ssmf_capture_run(paths, n, filter, &p, &sinks, res);
	if (rc == 0 && !res->in.stopped && ssmf_scorer_finish(sc) != 0)
		rc = SSMF_CAPTURE_FAILED;
	return rc;
}

int ssmf_scorer_dataset_file(struct ssmf_scorer *sc, const char *path, uint32_t index,
                             struct ssmf_labels *labels, uint64_t *flows_cut,
                             struct ssmf_report_inputs *keep, int calibration, char *err,
                             size_t errlen)
{
	struct ssmf_dataset *ds = ssmf_dataset_open(path, err, errlen);
	if (!ds)
		return SSMF_SCORE_E_OPEN;
	size_t before, after;
	ssmf_scorer_results(sc, &before);
	*flows_cut += ssmf_dataset_flows_cut(ds);
	int rc = ssmf_scorer_dataset(sc, ds);
	struct ssmf_flow_score *r = ssmf_scorer_results(sc, &after);
	for (size_t k = before; k < after; k++)
		r[k].source = r[k].input = index;
	for (size_t k = before; rc == 0 && !ssmf_labels_active(labels) && k < after; k++) {
		const char *name = ssmf_dataset_label_name(ds, r[k].s.label);
		r[k].s.label = name ? ssmf_labels_intern(labels, name) : SSMF_LABEL_NONE;
	}
	for (size_t k = 0; rc == 0 && keep && k < ssmf_dataset_ninputs(ds); k++)
		if (ssmf_report_add_input(keep, ssmf_dataset_input(ds, k), path, calibration) !=
		    0) {
			snprintf(err, errlen, "%s: out of memory", path);
			rc = SSMF_SCORE_E_MEMORY;
		}
	ssmf_dataset_close(ds);
	return rc == SSMF_SCORE_E_MEMORY ? rc : rc ? SSMF_SCORE_E_SCORE : 0;
}
