/* flow_summary.h - the per-flow summary row, as stored in a dataset's /flows.
 *
 * "fwd" is the initiator's direction (record direction 0), "bwd" the other.
 * Sizes are IP lengths; inter-arrival times (IAT) are within one direction.
 * No rate columns: a rate over a zero duration has no honest value. Statistics
 * over no samples are 0, never NaN. Documented in ssmflow-formats(5).
 */
#ifndef SSMF_FLOW_SUMMARY_H
#define SSMF_FLOW_SUMMARY_H

#include <stdint.h>

#include "features/community_id.h"

enum ssmf_end_reason {
	SSMF_END_IDLE = 0,    /* no packet for the idle timeout */
	SSMF_END_ACTIVE = 1,  /* flow lasted the active timeout */
	SSMF_END_FIN = 2,     /* FIN seen in both directions (plus grace) */
	SSMF_END_RST = 3,     /* TCP reset (plus grace) */
	SSMF_END_EOF = 4,     /* still open at the end of input */
	SSMF_END_EVICTED = 5, /* evicted under the flow table's memory cap */
	SSMF_END_COUNT
};

extern const char *const ssmf_end_reason_names[SSMF_END_COUNT];

#define SSMF_LABEL_NONE (-1)

struct ssmf_flow_summary {
	uint64_t first_ts_ns;
	uint64_t last_ts_ns;
	uint64_t duration_ns;
	uint64_t packet_offset; /* index of the flow's first record in /packets */
	uint64_t fwd_packets, bwd_packets;
	uint64_t fwd_bytes, bwd_bytes;                 /* wire bytes (frame length) */
	uint64_t fwd_ip_bytes, bwd_ip_bytes;           /* sum of IP lengths */
	uint64_t fwd_payload_bytes, bwd_payload_bytes; /* sum of L4 payload lengths */
	uint64_t fwd_iat_min_ns, fwd_iat_max_ns, bwd_iat_min_ns, bwd_iat_max_ns;
	double fwd_size_mean, fwd_size_std, bwd_size_mean, bwd_size_std;
	double fwd_iat_mean_ns, fwd_iat_std_ns, bwd_iat_mean_ns, bwd_iat_std_ns;
	uint32_t flow_id;
	uint32_t packet_count; /* records stored in /packets (<= max packets per flow) */
	uint32_t tunnel_id;
	uint32_t fwd_size_min, fwd_size_max, bwd_size_min, bwd_size_max;
	uint32_t fwd_flag_counts[8]; /* FIN SYN RST PSH ACK URG ECE CWR */
	uint32_t bwd_flag_counts[8];
	int32_t label; /* index into the dataset's label names, SSMF_LABEL_NONE if none */
	uint16_t src_port, dst_port; /* initiator's, responder's */
	uint16_t vlan;
	uint8_t src_addr[16], dst_addr[16]; /* initiator, responder; IPv4 in the first 4 */
	uint8_t ip_version;
	uint8_t protocol;
	uint8_t end_reason;
	uint8_t pad[5];
	char community_id[SSMF_COMMUNITY_ID_SIZE]; /* Community ID v1, NUL-terminated; "" if none */
};

_Static_assert(sizeof(struct ssmf_flow_summary) % 8 == 0, "summary rows stay 8-byte aligned");

#endif
