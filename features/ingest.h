/* ingest.h - captures to records and flows: reads each input in the order
 * given, decodes every packet and feeds the flow table. The one code path that
 * `extract` and `score` share, so both build the same records. */
#ifndef SSMF_INGEST_H
#define SSMF_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "features/decode.h"
#include "features/flowtable.h"
#include "pcapio/provenance.h"

struct ssmf_ingest_hooks {
	void *user;
	/* Each packet's record as it is built, in capture order (may be NULL). */
	int (*record)(void *user, const struct ssmf_record *r);
	/* A one-line warning (damaged input, time going backwards). */
	void (*warn)(void *user, const char *msg);
	/* Called about every 4096 packets and after each input, with the bytes of the
	 * inputs (as stored) read so far; a nonzero return stops reading. */
	int (*progress)(void *user, uint64_t packets, uint64_t bytes_read);
	/* Polled per packet: nonzero stops reading (a signal arrived). */
	int (*should_stop)(void *user);
	/* Called before each input is read (may be NULL). */
	void (*input_started)(void *user, size_t index, const char *path);
};

enum ssmf_ingest_status {
	SSMF_INGEST_OK = 0,
	SSMF_INGEST_PARTIAL = 1, /* some input was damaged; everything before was used */
	SSMF_INGEST_REFUSED = 2, /* some input could not be read at all */
};

struct ssmf_ingest_result {
	struct ssmf_input_info *inputs; /* one per path, owned: ssmf_ingest_result_free */
	size_t ninputs;
	uint64_t packets_read;    /* passing --filter */
	uint64_t packets_decoded; /* that became records */
	uint64_t skipped[SSMF_SKIP_COUNT];
	int partial, refused; /* inputs in each state */
	int stopped;          /* stopped early by should_stop/progress */
	int sink_error;       /* the flow table's sink failed */
};

/* Reads `paths` into the flow table `t` (not flushed). Returns 0, or -1 if
 * the flow table's sink failed or memory ran out (see result). */
int ssmf_ingest(const char *const *paths, size_t npaths, const char *bpf_filter,
                struct ssmf_flowtable *t, const struct ssmf_ingest_hooks *hooks,
                struct ssmf_ingest_result *res);
void ssmf_ingest_result_free(struct ssmf_ingest_result *res);

#endif
