/* ssmf_record.h - the per-packet feature record: the live contract.
 *
 * The XDP/eBPF harvester, `ssmflow extract` and `ssmflow score` all produce
 * exactly this struct, bit for bit. eBPF has no floating point, so every
 * field is an integer; all normalisation lives in the model's input stage.
 *
 * Layout: little-endian, naturally aligned, 32 bytes, no implicit padding.
 * Version rule: new fields only go into `reserved` (readers ignore nonzero
 * reserved bytes of a newer minor revision); any change to an existing field's
 * meaning, size or offset is a new SSMF_RECORD_VERSION. Documented field by
 * field in ssmflow-formats(5).
 */
#ifndef SSMF_RECORD_H
#define SSMF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define SSMF_RECORD_VERSION 1u
#define SSMF_RECORD_SIZE    32u

/* `gap_us` saturates here: 2^32-1 us is about 71 minutes. */
#define SSMF_GAP_US_MAX UINT32_MAX
/* `pkt_index` saturates here. */
#define SSMF_PKT_INDEX_MAX UINT16_MAX

/* Bits of `flags`. */
enum ssmf_record_flag {
	SSMF_REC_IPV6 = 1u << 0,         /* network layer is IPv6 (else IPv4 or none) */
	SSMF_REC_FRAGMENT = 1u << 1,     /* part of a fragmented IP datagram */
	SSMF_REC_TUNNEL = 1u << 2,       /* decoded from inside GRE/VXLAN/GTP-U/IP-in-IP */
	SSMF_REC_TRUNCATED = 1u << 3,    /* captured length < wire length (snaplen) */
	SSMF_REC_OUT_OF_ORDER = 1u << 4, /* timestamp earlier than the flow's previous */
};

/* TCP flag bits as on the wire (byte 13 of the TCP header). */
enum ssmf_tcp_flag {
	SSMF_TCP_FIN = 0x01,
	SSMF_TCP_SYN = 0x02,
	SSMF_TCP_RST = 0x04,
	SSMF_TCP_PSH = 0x08,
	SSMF_TCP_ACK = 0x10,
	SSMF_TCP_URG = 0x20,
	SSMF_TCP_ECE = 0x40,
	SSMF_TCP_CWR = 0x80,
};

struct ssmf_record {
	uint64_t ts_ns;       /* capture time, ns since the Unix epoch */
	uint32_t flow_id;     /* flow number within the dataset / stream */
	uint32_t gap_us;      /* us since the flow's previous packet, 0 for the first; saturating */
	uint16_t ip_len;      /* IP total length (IPv6: payload length + 40); saturating */
	uint16_t payload_len; /* L4 payload bytes (IP length minus IP and L4 headers) */
	uint16_t tcp_window;  /* raw TCP window field (unscaled), 0 if not TCP */
	uint16_t pkt_index;   /* 0-based index of the packet in its flow; saturating */
	uint8_t tcp_flags;    /* enum ssmf_tcp_flag bits, 0 if not TCP */
	uint8_t ttl;          /* IPv4 TTL or IPv6 hop limit */
	uint8_t ip_proto;     /* IP protocol number of the L4 header (6 TCP, 17 UDP, ...) */
	uint8_t direction;    /* 0 = from the flow's initiator, 1 = towards it */
	uint8_t flags;        /* enum ssmf_record_flag bits */
	uint8_t reserved[3];  /* zero; room for new fields (see the version rule) */
};

_Static_assert(sizeof(struct ssmf_record) == SSMF_RECORD_SIZE, "record is 32 bytes");
_Static_assert(offsetof(struct ssmf_record, ts_ns) == 0, "ts_ns offset");
_Static_assert(offsetof(struct ssmf_record, flow_id) == 8, "flow_id offset");
_Static_assert(offsetof(struct ssmf_record, gap_us) == 12, "gap_us offset");
_Static_assert(offsetof(struct ssmf_record, ip_len) == 16, "ip_len offset");
_Static_assert(offsetof(struct ssmf_record, payload_len) == 18, "payload_len offset");
_Static_assert(offsetof(struct ssmf_record, tcp_window) == 20, "tcp_window offset");
_Static_assert(offsetof(struct ssmf_record, pkt_index) == 22, "pkt_index offset");
_Static_assert(offsetof(struct ssmf_record, tcp_flags) == 24, "tcp_flags offset");
_Static_assert(offsetof(struct ssmf_record, ttl) == 25, "ttl offset");
_Static_assert(offsetof(struct ssmf_record, ip_proto) == 26, "ip_proto offset");
_Static_assert(offsetof(struct ssmf_record, direction) == 27, "direction offset");
_Static_assert(offsetof(struct ssmf_record, flags) == 28, "flags offset");
_Static_assert(offsetof(struct ssmf_record, reserved) == 29, "reserved offset");

#endif
