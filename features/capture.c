#include "features/capture.h"

#include <string.h>

struct run {
	const struct ssmf_capture_sinks *s;
	struct ssmf_flowtable *t;
};

static void on_input(void *user, size_t index, const char *path)
{
	struct run *r = user;
	/* flow ids count the flows started: this input's flows have ids from here on */
	if (r->s->input_started)
		r->s->input_started(r->s->user, index, path,
		                    (uint32_t)ssmf_flowtable_counters(r->t)->flows);
}

static int on_record(void *user, const struct ssmf_record *rec)
{
	struct run *r = user;
	return r->s->record(r->s->user, rec);
}

static void on_warn(void *user, const char *msg)
{
	struct run *r = user;
	if (r->s->warn)
		r->s->warn(r->s->user, msg);
}

static int on_should_stop(void *user)
{
	struct run *r = user;
	return r->s->should_stop && r->s->should_stop(r->s->user);
}

static int on_progress(void *user, uint64_t packets, uint64_t bytes_read)
{
	struct run *r = user;
	if (r->s->progress)
		r->s->progress(r->s->user, packets, bytes_read,
		               ssmf_flowtable_counters(r->t)->flows);
	return 0;
}

int ssmf_capture_run(const char *const *paths, size_t n, const char *filter,
                     const struct ssmf_flow_params *fp, const struct ssmf_capture_sinks *sinks,
                     struct ssmf_capture_result *res)
{
	memset(res, 0, sizeof *res);
	struct run r = {.s = sinks};
	r.t = ssmf_flowtable_new(fp, sinks->flow_end, sinks->user);
	if (!r.t)
		return SSMF_CAPTURE_NO_TABLE;
	if (sinks->chunk)
		ssmf_flowtable_set_chunk_sink(r.t, sinks->chunk);
	struct ssmf_ingest_hooks hooks = {.user = &r,
	                                  .record = sinks->record ? on_record : NULL,
	                                  .warn = on_warn,
	                                  .progress = on_progress,
	                                  .should_stop = on_should_stop,
	                                  .input_started = on_input};
	int rc = ssmf_ingest(paths, n, filter, r.t, &hooks, &res->in);
	if (rc == 0 && !res->in.stopped && !on_should_stop(&r))
		rc = ssmf_flowtable_flush(r.t);
	res->flows = *ssmf_flowtable_counters(r.t);
	ssmf_flowtable_free(r.t);
	return rc ? SSMF_CAPTURE_FAILED : 0;
}

void ssmf_capture_result_free(struct ssmf_capture_result *res)
{
	ssmf_ingest_result_free(&res->in);
}
