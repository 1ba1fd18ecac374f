/* capture.h - captures through a flow table into a consumer's sinks: the wiring that
 * extract (flows to a dataset) and score (flows to the model) share, built once. */
#ifndef SSMF_CAPTURE_H
#define SSMF_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "features/flowtable.h"
#include "features/ingest.h"

struct ssmf_capture_sinks {
	void *user;
	ssmf_flow_sink flow_end;    /* each ended flow with its kept records */
	ssmf_flow_chunk_sink chunk; /* an open flow's records, max_packets at a time (NULL) */
	int (*record)(void *user, const struct ssmf_record *r); /* every record (NULL) */
	/* Before each input is read: the flows it starts have ids from first_flow_id on. */
	void (*input_started)(void *user, size_t index, const char *path, uint32_t first_flow_id);
	void (*warn)(void *user, const char *msg);
	int (*should_stop)(void *user); /* polled per packet and before the final flush */
	/* About every 4096 packets and after each input; flows: started so far. */
	void (*progress)(void *user, uint64_t packets, uint64_t bytes_read, uint64_t flows);
};

struct ssmf_capture_result {
	struct ssmf_ingest_result in; /* per input, skipped packets; in.stopped, in.sink_error */
	struct ssmf_flow_counters flows;
};

enum {
	SSMF_CAPTURE_FAILED = -1,   /* a sink failed or memory ran out while reading */
	SSMF_CAPTURE_NO_TABLE = -2, /* out of memory for the flow table: nothing was read */
};

/* Reads the captures, in order, through a flow table with parameters fp into the sinks
 * and flushes the table at the end, unless reading stopped (in.stopped or should_stop).
 * Returns 0 or a negative code above; res is to be freed in every case. */
int ssmf_capture_run(const char *const *paths, size_t n, const char *filter,
                     const struct ssmf_flow_params *fp, const struct ssmf_capture_sinks *sinks,
                     struct ssmf_capture_result *res);
void ssmf_capture_result_free(struct ssmf_capture_result *res);

#endif
