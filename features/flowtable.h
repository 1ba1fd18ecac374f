/* flowtable.h - packets to flows: bidirectional keys, direction, timeouts, TCP
 * close, a memory cap, fragments; builds each packet's record and each flow's
 * summary. All timing comes from packet timestamps, never the wall clock. */
#ifndef SSMF_FLOWTABLE_H
#define SSMF_FLOWTABLE_H

#include <stdint.h>

#include "features/decode.h"
#include "features/flow_summary.h"
#include "features/ssmf_record.h"

struct ssmf_flow_params {
	uint64_t idle_timeout_ns;      /* 0: never */
	uint64_t active_timeout_ns;    /* 0: never */
	int tcp_close;                 /* end TCP flows on RST / FIN both ways */
	uint64_t tcp_close_grace_ns;   /* late packets this long after the close join the flow */
	uint32_t max_packets;          /* records kept per flow (the summary counts all) */
	uint64_t memory_cap_bytes;     /* pool slots + buffered records; LRU eviction above */
	uint64_t extra_bytes_per_flow; /* a caller's own per-flow state (a scorer's model
	                                * state), counted against the cap */
	uint16_t community_id_seed;    /* the seed of each flow's Community ID */
};

void ssmf_flow_params_default(struct ssmf_flow_params *p);

/* Receives each ended flow: its summary and its first packet_count records in
 * time order. Returns 0, or nonzero to stop (the error is the sink's to keep). */
typedef int (*ssmf_flow_sink)(void *user, const struct ssmf_flow_summary *s,
                              const struct ssmf_record *records);

/* Receives a chunk of a flow still open: the max_packets records it holds, in time order,
 * before the table takes its next packet into the emptied buffer (the user is the sink's).
 * Returns 0, or nonzero to stop. */
typedef int (*ssmf_flow_chunk_sink)(void *user, uint32_t flow_id, const struct ssmf_record *records,
                                    uint32_t n);

struct ssmf_flow_counters {
	uint64_t packets; /* packets given to the table */
	uint64_t flows;   /* flows started */
	uint64_t ended[SSMF_END_COUNT];
	uint64_t out_of_order;           /* packets earlier than the latest timestamp seen */
	uint64_t fragments_attributed;   /* non-first fragments given their ports */
	uint64_t fragments_unattributed; /* non-first fragments whose first was not seen */
	uint64_t fragment_cache_evictions;
	uint64_t records_dropped; /* packets past max_packets: counted, not stored */
	uint64_t peak_memory_bytes;
};

struct ssmf_flowtable;

struct ssmf_flowtable *ssmf_flowtable_new(const struct ssmf_flow_params *p, ssmf_flow_sink sink,
                                          void *user);
/* With a chunk sink, a flow that holds max_packets records hands them over and keeps
 * going, so every record reaches a sink; without one (the default), records past
 * max_packets are counted and dropped. The end sink then gets the records since the last
 * chunk (packet_count of them). */
void ssmf_flowtable_set_chunk_sink(struct ssmf_flowtable *t, ssmf_flow_chunk_sink chunk);
/* Adds one decoded packet. Fills *rec (if not NULL) with its record. Returns
 * 0, or the sink's nonzero result. */
int ssmf_flowtable_add(struct ssmf_flowtable *t, const struct ssmf_decoded *d, uint64_t ts_ns,
                       uint32_t caplen, uint32_t wire_len, struct ssmf_record *rec);
/* Ends every open flow (reason: end of input), oldest activity first. */
int ssmf_flowtable_flush(struct ssmf_flowtable *t);
/* Ends every open flow and restarts the table's clock: for an input whose time starts
 * before the previous input's ended (another timeline; the old flows cannot continue). */
int ssmf_flowtable_new_timeline(struct ssmf_flowtable *t);
const struct ssmf_flow_counters *ssmf_flowtable_counters(const struct ssmf_flowtable *t);
void ssmf_flowtable_free(struct ssmf_flowtable *t);

#endif
