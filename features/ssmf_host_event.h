/* ssmf_host_event.h - the per-host flow event: the host level's live contract.
 *
 * Every IP address that is an endpoint of a flow has a sequence of these: one event per
 * flow at the flow's first packet, in the initiator's sequence (role 0) and in the
 * responder's (role 1). An event holds what the first packet's record and the flow key
 * say, plus what the host's own bounded, integer-only state says (time since its previous
 * event and since its previous event with the same peer and service, and whether the peer
 * and the service port are new to it), so the XDP/eBPF harvester can emit the same events
 * with a fixed-size per-host map. No floating point, no payload.
 *
 * Why these fields: what brute force, beacons, mining, scans and floods do shows across a
 * host's flows, not in one flow's packets: many similar connections from one host to one
 * service (peer_gap_us small and regular, novelty clear), connections at a fixed period
 * (gap_us and peer_gap_us constant), probes to many ports or from many sources (novelty
 * bits set at small gaps), a burst of lookups (gap_us tiny, one port).
 *
 * Version 2 adds the host's recent activity as three decayed counts (rate_*): how many
 * events it had lately, how many with this peer and service, how many with a new peer.
 * A sequence model learns repetition in context (the 400th connection of a brute force
 * is as predictable as a browser's tenth), so these counts are judged apart, against
 * their spread over normal hosts (features/host_profile.h). Each is an exponentially
 * decayed count in 1/16 events, updated with shifts and one multiply (no floating point).
 *
 * Version 3 adds a fourth count in version 2's reserved field: the host's returns to this
 * peer and service, i.e. its events with them that come after SSMF_RETURN_IDLE_US or more
 * without one, decayed over SSMF_RATE_RETURN_HALF_US. A beacon calls home after a sleep,
 * every time: each call is a return, and they add up to a count a host reaches only by
 * coming back to one service again and again over minutes (a browser's burst of
 * connections to one server is one return, not ten).
 *
 * Layout: little-endian, naturally aligned, 40 bytes, no implicit padding: any change is a
 * new SSMF_HOST_EVENT_VERSION. An event's position in its host's
 * sequence is not stored (the sequence gives it). Documented field by field in
 * ssmflow-formats(5).
 */
#ifndef SSMF_HOST_EVENT_H
#define SSMF_HOST_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define SSMF_HOST_EVENT_VERSION 3u
#define SSMF_HOST_EVENT_SIZE    40u

/* The rate_* counts: units per event, and each count's half-life. */
#define SSMF_RATE_ONE            16u
#define SSMF_RATE_HOST_HALF_US   60000000u  /* rate_events, rate_new_peers: 60 s */
#define SSMF_RATE_SVC_HALF_US    300000000u /* rate_service: 5 min */
#define SSMF_RATE_RETURN_HALF_US 600000000u /* rate_returns: 10 min */
/* Idle time with a peer and service after which an event with them is a return. */
#define SSMF_RETURN_IDLE_US 10000000u /* 10 s */

/* `peer_gap_us` when the host has no earlier event with this peer and service. */
#define SSMF_PEER_GAP_NONE UINT32_MAX

/* Roles: which end of the flow the host is. */
enum ssmf_host_role {
	SSMF_ROLE_INITIATOR = 0, /* sent the flow's first packet */
	SSMF_ROLE_RESPONDER = 1,
};

/* Bits of `novelty`, from the host's sketches (recent peers, recent service ports). */
enum ssmf_host_novelty {
	SSMF_NOVEL_PEER = 1u << 0,    /* the peer address is not among the host's recent peers */
	SSMF_NOVEL_PORT = 1u << 1,    /* the service port is not among its recent service ports */
	SSMF_NOVEL_SERVICE = 1u << 2, /* no recent event with this peer on this service port */
};

struct ssmf_host_event {
	uint64_t ts_ns;        /* the flow's first packet, ns since the Unix epoch */
	uint32_t host_id;      /* host number within the dataset / stream */
	uint32_t gap_us;       /* us since the host's previous event, 0 for its first; saturating */
	uint32_t peer_gap_us;  /* us since its previous event with the same peer and service port,
	                          SSMF_PEER_GAP_NONE if none is remembered; saturating below it */
	uint16_t ip_len;       /* the flow's first packet: IP total length */
	uint16_t payload_len;  /* the flow's first packet: L4 payload bytes */
	uint16_t service_port; /* responder's port (TCP, UDP, SCTP), else 0 */
	uint8_t tcp_flags;     /* the first packet's TCP flags (ssmf_tcp_flag), 0 if not TCP */
	uint8_t ttl;           /* the first packet's TTL / hop limit */
	uint8_t ip_proto;      /* IP protocol of the flow */
	uint8_t role;          /* enum ssmf_host_role */
	uint8_t novelty;       /* enum ssmf_host_novelty bits */
	uint8_t rec_flags;     /* the first packet's record flags (ssmf_record_flag) */
	/* version 2: decayed counts, SSMF_RATE_ONE per event, this event included; saturating */
	uint16_t rate_events; /* the host's events, half-life SSMF_RATE_HOST_HALF_US */
	uint16_t
	    rate_service; /* its events with this peer and service port, SSMF_RATE_SVC_HALF_US */
	uint16_t rate_new_peers; /* its events with a new peer (SSMF_NOVEL_PEER), host half-life */
	/* version 3 */
	uint16_t rate_returns; /* its returns to this peer and service (after SSMF_RETURN_IDLE_US
	                          or more without an event with them), SSMF_RATE_RETURN_HALF_US */
};

_Static_assert(sizeof(struct ssmf_host_event) == SSMF_HOST_EVENT_SIZE, "host event is 40 bytes");
_Static_assert(offsetof(struct ssmf_host_event, ts_ns) == 0, "ts_ns offset");
_Static_assert(offsetof(struct ssmf_host_event, host_id) == 8, "host_id offset");
_Static_assert(offsetof(struct ssmf_host_event, gap_us) == 12, "gap_us offset");
_Static_assert(offsetof(struct ssmf_host_event, peer_gap_us) == 16, "peer_gap_us offset");
_Static_assert(offsetof(struct ssmf_host_event, ip_len) == 20, "ip_len offset");
_Static_assert(offsetof(struct ssmf_host_event, payload_len) == 22, "payload_len offset");
_Static_assert(offsetof(struct ssmf_host_event, service_port) == 24, "service_port offset");
_Static_assert(offsetof(struct ssmf_host_event, tcp_flags) == 26, "tcp_flags offset");
_Static_assert(offsetof(struct ssmf_host_event, ttl) == 27, "ttl offset");
_Static_assert(offsetof(struct ssmf_host_event, ip_proto) == 28, "ip_proto offset");
_Static_assert(offsetof(struct ssmf_host_event, role) == 29, "role offset");
_Static_assert(offsetof(struct ssmf_host_event, novelty) == 30, "novelty offset");
_Static_assert(offsetof(struct ssmf_host_event, rec_flags) == 31, "rec_flags offset");
_Static_assert(offsetof(struct ssmf_host_event, rate_events) == 32, "rate_events offset");
_Static_assert(offsetof(struct ssmf_host_event, rate_service) == 34, "rate_service offset");
_Static_assert(offsetof(struct ssmf_host_event, rate_new_peers) == 36, "rate_new_peers offset");
_Static_assert(offsetof(struct ssmf_host_event, rate_returns) == 38, "rate_returns offset");

#endif
