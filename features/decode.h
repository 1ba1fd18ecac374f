/* decode.h - one packet's bytes to the fields a flow and a record need.
 *
 * One decoder per protocol layer (decode_link.c, decode_radio.c, decode_wlan.c,
 * decode_llc.c, decode_nflog.c, decode_mpls.c, decode_pppoe.c, decode_ipv4.c,
 * decode_ipv6.c, decode_l4.c, decode_tunnel.c); each reads
 * through a bounds-checked cursor and never past the captured length. A packet
 * that cannot be decoded gets a reason, counted by the caller, and no record.
 */
#ifndef SSMF_DECODE_H
#define SSMF_DECODE_H

#include <stdint.h>

#include "features/cursor.h"

/* Why a packet produced no record. Stable numbers: stored in datasets. */
enum ssmf_skip_reason {
	SSMF_SKIP_NONE = 0,
	SSMF_SKIP_NON_IP,         /* ARP, LLDP, STP...: not malformed, just not IP */
	SSMF_SKIP_LINKTYPE,       /* a link type the decoder does not know */
	SSMF_SKIP_TRUNC_L2,       /* captured bytes end inside the link header */
	SSMF_SKIP_BAD_ENCAP,      /* bad or too deep VLAN/MPLS/PPPoE/tunnel stack */
	SSMF_SKIP_TRUNC_IP,       /* captured bytes end inside the IP header */
	SSMF_SKIP_BAD_IP_VERSION, /* IP version field does not match the link's claim */
	SSMF_SKIP_BAD_IP_HEADER,  /* IPv4 IHL < 5, or total length < header length */
	SSMF_SKIP_BAD_IP6_EXT,    /* IPv6 extension header chain malformed or too long */
	SSMF_SKIP_TRUNC_L4,       /* L4 header cut by the capture or by the IP length */
	SSMF_SKIP_BAD_L4_HEADER,  /* TCP data offset < 5, UDP length < 8 */
	SSMF_SKIP_WLAN_NON_DATA,  /* 802.11 management, control, or data without a body */
	SSMF_SKIP_WLAN_PROTECTED, /* 802.11 data with the Protected bit: encrypted */
	SSMF_SKIP_COUNT
};

extern const char *const ssmf_skip_reason_names[SSMF_SKIP_COUNT];

/* Bound on nested encapsulations (VLAN tags, MPLS labels, tunnels) per packet. */
#define SSMF_MAX_ENCAP_DEPTH 16

struct ssmf_decoded {
	uint8_t ip_version; /* 4 or 6 */
	uint8_t proto;      /* L4 protocol (after IPv6 extension headers) */
	uint8_t ttl;
	uint8_t tcp_flags;
	uint8_t rec_flags; /* SSMF_REC_* bits known at decode time */
	uint8_t has_ports; /* TCP, UDP, SCTP, ... (ports valid) */
	uint16_t vlan;     /* innermost VLAN id, 0 if none */
	uint16_t sport, dport;
	uint16_t tcp_window;
	uint32_t tunnel_id; /* VXLAN VNI, GTP-U TEID, GRE key; 0 if none */
	uint32_t
	    tunnel_key;  /* the part of tunnel_id that is the same both ways (VNI), keys flows */
	uint32_t ip_len; /* IP total length in bytes (from the header) */
	uint32_t payload_len;     /* L4 payload bytes (by the IP length, not caplen) */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes, rest zero */
	/* IP fragmentation */
	uint8_t is_fragment;    /* part of a fragmented datagram */
	uint8_t first_fragment; /* offset 0: carries the L4 header */
	uint32_t frag_id;       /* IPv4 identification or IPv6 fragment id */
	uint8_t icmp_type, icmp_code;
};

/* Decodes `caplen` bytes of a packet of link type `linktype` (a DLT_ value).
 * Returns SSMF_SKIP_NONE and fills *d, or the reason it was skipped. */
enum ssmf_skip_reason ssmf_decode_packet(int linktype, const uint8_t *data, uint32_t caplen,
                                         struct ssmf_decoded *d);

/* Whether the decoder knows link type `linktype` (a DLT_ value). */
int ssmf_decode_linktype_supported(int linktype);

/* The layers, each consuming from a cursor and calling the next. `depth`
 * counts encapsulations so a hostile stack cannot recurse without bound. */
enum ssmf_skip_reason ssmf_decode_ethertype(uint16_t ethertype, struct cursor *c, int depth,
                                            struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_ethernet(struct cursor *c, int depth, struct ssmf_decoded *d);
/* LLC with SNAP (802.11, FDDI): an ethertype behind AA-AA-03 and an OUI. */
enum ssmf_skip_reason ssmf_decode_llc_snap(struct cursor *c, int depth, struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_fddi(struct cursor *c, int depth, struct ssmf_decoded *d);
/* An 802.11 frame; `datapad`: the body is 4-byte aligned after the header. */
enum ssmf_skip_reason ssmf_decode_ieee80211(struct cursor *c, int datapad, int depth,
                                            struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_radiotap(struct cursor *c, int depth, struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_ppi(struct cursor *c, struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_nflog(struct cursor *c, struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_mpls(struct cursor *c, int depth, struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_pppoe(struct cursor *c, int depth, struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_ppp_proto(uint16_t proto, struct cursor *c, int depth,
                                            struct ssmf_decoded *d);
/* IP whose version is read from the first nibble (raw IP, MPLS payload). */
enum ssmf_skip_reason ssmf_decode_ip(struct cursor *c, int depth, struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_ipv4(struct cursor *c, int depth, struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_ipv6(struct cursor *c, int depth, struct ssmf_decoded *d);
/* L4 header at c, `l4_len` bytes of L4 by the IP header's length. */
enum ssmf_skip_reason ssmf_decode_l4(struct cursor *c, uint32_t l4_len, int depth,
                                     struct ssmf_decoded *d);
/* Tunnels: called by decode_l4 for GRE, IP-in-IP, VXLAN and GTP-U. Return
 * SSMF_SKIP_NONE after decoding the inner packet into *d. */
enum ssmf_skip_reason ssmf_decode_gre(struct cursor *c, int depth, struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_vxlan(struct cursor *c, int depth, struct ssmf_decoded *d);
enum ssmf_skip_reason ssmf_decode_gtpu(struct cursor *c, int depth, struct ssmf_decoded *d);

#endif
