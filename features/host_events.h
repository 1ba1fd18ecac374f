/* host_events.h - builds each host's sequence of flow events (ssmf_host_event.h), and
 * lowers an event into the row the SSM engine reads (the host level's input stage).
 *
 * Per-host state is integer-only and fixed in size (a few hundred bytes: the time of the
 * previous event and three small direct-mapped sketches of recent peers, service ports and
 * peer+service pairs), so a harvester's per-host map can hold the same state. Events are
 * built in flow-start order: the caller hands flows sorted by their first packet's time.
 */
#ifndef SSMF_HOST_EVENTS_H
#define SSMF_HOST_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "features/ssmf_host_event.h"
#include "features/ssmf_record.h"

/* What the builder needs of a flow at its first packet. */
struct ssmf_host_flow {
	const struct ssmf_record *first; /* the flow's first packet's record */
	const uint8_t *src_addr;         /* initiator, 16 bytes (IPv4 in the first 4) */
	const uint8_t *dst_addr;         /* responder */
	uint8_t ip_version;              /* 4 or 6; anything else: the flow has no hosts */
	uint16_t src_port, dst_port;     /* initiator's, responder's (0 without ports) */
	uint32_t domain;                 /* address space: equal addresses in different domains
	                                    are different hosts (a dataset each, offline) */
	uint32_t flow_id;                /* orders flows that start in the same nanosecond */
};

struct ssmf_host_table;

struct ssmf_host_table *ssmf_host_table_new(void);
void ssmf_host_table_free(struct ssmf_host_table *t);

/* The flow's two events: ev[0] in the initiator's sequence, ev[1] in the responder's (their
 * host_id say which host). Returns 2, 0 for a flow without IP endpoints (nothing written),
 * -1 when out of memory. */
int ssmf_host_table_flow(struct ssmf_host_table *t, const struct ssmf_host_flow *f,
                         struct ssmf_host_event ev[2]);

size_t ssmf_host_table_count(const struct ssmf_host_table *t);
/* Host `id`'s address (16 bytes), IP version and domain. */
const uint8_t *ssmf_host_table_addr(const struct ssmf_host_table *t, uint32_t id,
                                    uint8_t *ip_version, uint32_t *domain);

/* ---- every host's sequence at once (offline) ---- */

struct ssmf_host_sequences {
	struct ssmf_host_table *table; /* the hosts' addresses */
	size_t n_hosts;
	size_t *start;              /* (n_hosts + 1): host h's events are [start[h], start[h+1]) */
	struct ssmf_host_event *ev; /* (start[n_hosts]) grouped by host, each in flow-start order */
	uint32_t *flow;             /* the index in the input of each event's flow */
};

/* Builds the sequences of n flows given in any order: they are taken by (first packet time,
 * flow id, index), the order a harvester sees them start in. Returns 0, -1 out of memory. */
int ssmf_host_sequences_build(struct ssmf_host_sequences *s, const struct ssmf_host_flow *f,
                              size_t n);
void ssmf_host_sequences_free(struct ssmf_host_sequences *s);

/* ---- the host level's input stage ---- */

/* The engine reads 32-byte rows with the packet record's layout; a host sequence is lowered
 * into such rows, a start row first, then one row per event (ssmflow-formats(5) has the
 * table). The four heads then predict, for the next event: the host's role (direction
 * head), the first packet's size (size head), the time since the host's previous event
 * (gap head) and the first packet's TCP flags (flags head, TCP events). */
void ssmf_host_lower_start(uint32_t host_id, uint64_t ts_ns, struct ssmf_record *row);
/* `pos` is the row's position in the lowered sequence (1 for the first event). */
void ssmf_host_lower_event(const struct ssmf_host_event *e, uint32_t pos, struct ssmf_record *row);

#endif
