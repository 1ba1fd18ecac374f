/* Link layers: Ethernet with 802.1Q/802.1ad stacks, Linux SLL and SLL2,
 * BSD NULL/LOOP, raw IP, Cisco HDLC, PPP; the dispatch to the 802.11, FDDI
 * and NFLOG decoders; and the ethertype dispatch shared by all of them. */
#include <pcap/dlt.h>

#include "features/decode.h"
#include "features/ssmf_record.h"

#define ETHERTYPE_IPV4          0x0800
#define ETHERTYPE_IPV6          0x86dd
#define ETHERTYPE_VLAN          0x8100
#define ETHERTYPE_QINQ          0x88a8
#define ETHERTYPE_QINQ_OLD      0x9100
#define ETHERTYPE_MPLS          0x8847
#define ETHERTYPE_MPLS_MC       0x8848
#define ETHERTYPE_PPPOE_SESSION 0x8864

/* LINKTYPE_ values that libpcap reports as such (not always equal to DLT_). */
#define LINKTYPE_LINUX_SLL2 276
#define LINKTYPE_IPV4       228
#define LINKTYPE_IPV6       229
#define LINKTYPE_NFLOG      239

const char *const ssmf_skip_reason_names[SSMF_SKIP_COUNT] = {
    [SSMF_SKIP_NONE] = "none",
    [SSMF_SKIP_NON_IP] = "non_ip",
    [SSMF_SKIP_LINKTYPE] = "unknown_linktype",
    [SSMF_SKIP_TRUNC_L2] = "truncated_link_header",
    [SSMF_SKIP_BAD_ENCAP] = "bad_encapsulation",
    [SSMF_SKIP_TRUNC_IP] = "truncated_ip_header",
    [SSMF_SKIP_BAD_IP_VERSION] = "bad_ip_version",
    [SSMF_SKIP_BAD_IP_HEADER] = "bad_ip_header",
    [SSMF_SKIP_BAD_IP6_EXT] = "bad_ipv6_extension_headers",
    [SSMF_SKIP_TRUNC_L4] = "truncated_l4_header",
    [SSMF_SKIP_BAD_L4_HEADER] = "bad_l4_header",
    [SSMF_SKIP_WLAN_NON_DATA] = "wlan_non_data",
    [SSMF_SKIP_WLAN_PROTECTED] = "wlan_protected",
};

enum ssmf_skip_reason ssmf_decode_ethertype(uint16_t ethertype, struct cursor *c, int depth,
                                            struct ssmf_decoded *d)
{
	if (depth > SSMF_MAX_ENCAP_DEPTH)
		return SSMF_SKIP_BAD_ENCAP;
	switch (ethertype) {
	case ETHERTYPE_IPV4:
		return ssmf_decode_ipv4(c, depth, d);
	case ETHERTYPE_IPV6:
		return ssmf_decode_ipv6(c, depth, d);
	case ETHERTYPE_VLAN:
	case ETHERTYPE_QINQ:
	case ETHERTYPE_QINQ_OLD: {
		uint16_t tci, inner;
		if (!cur_peek_be16(c, 0, &tci) || !cur_peek_be16(c, 2, &inner))
			return SSMF_SKIP_TRUNC_L2;
		d->vlan = tci & 0x0fff; /* the innermost tag wins: it names the customer VLAN */
		cur_skip(c, 4);
		return ssmf_decode_ethertype(inner, c, depth + 1, d);
	}
	case ETHERTYPE_MPLS:
	case ETHERTYPE_MPLS_MC:
		return ssmf_decode_mpls(c, depth + 1, d);
	case ETHERTYPE_PPPOE_SESSION:
		return ssmf_decode_pppoe(c, depth + 1, d);
	default:
		return SSMF_SKIP_NON_IP;
	}
}

enum ssmf_skip_reason ssmf_decode_ethernet(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint16_t type;
	if (!cur_peek_be16(c, 12, &type))
		return SSMF_SKIP_TRUNC_L2;
	cur_skip(c, 14);
	if (type < 0x0600) /* 802.3 length field: LLC/SNAP frames carry no IP we decode */
		return SSMF_SKIP_NON_IP;
	return ssmf_decode_ethertype(type, c, depth, d);
}

/* BSD loopback: a 4-byte address family in the writer's byte order. */
static enum ssmf_skip_reason decode_null(struct cursor *c, int big_endian, struct ssmf_decoded *d)
{
	uint32_t family;
	int ok = big_endian ? cur_peek_be32(c, 0, &family) : cur_peek_le32(c, 0, &family);
	if (!ok)
		return SSMF_SKIP_TRUNC_L2;
	if (!big_endian && (family & 0xffff) == 0 && family != 0) /* written on the other endian */
		family = __builtin_bswap32(family);
	cur_skip(c, 4);
	switch (family) {
	case 2: /* AF_INET everywhere */
		return ssmf_decode_ipv4(c, 0, d);
	case 10: /* AF_INET6: Linux */
	case 24: /* OpenBSD, NetBSD */
	case 28: /* FreeBSD */
	case 30: /* macOS */
		return ssmf_decode_ipv6(c, 0, d);
	default:
		return SSMF_SKIP_NON_IP;
	}
}

int ssmf_decode_linktype_supported(int linktype)
{
	uint8_t none = 0;
	struct ssmf_decoded d;
	/* An empty packet of a known link type is truncated, of an unknown one is not. */
	return ssmf_decode_packet(linktype, &none, 0, &d) != SSMF_SKIP_LINKTYPE;
}

enum ssmf_skip_reason ssmf_decode_packet(int linktype, const uint8_t *data, uint32_t caplen,
                                         struct ssmf_decoded *d)
{
	struct cursor c = {data, caplen};
	*d = (struct ssmf_decoded){0};
	uint16_t type;
	switch (linktype) {
	case DLT_EN10MB:
		return ssmf_decode_ethernet(&c, 0, d);
	case DLT_LINUX_SLL: /* 16-byte header, protocol at 14 */
		if (!cur_peek_be16(&c, 14, &type))
			return SSMF_SKIP_TRUNC_L2;
		cur_skip(&c, 16);
		return ssmf_decode_ethertype(type, &c, 0, d);
	case LINKTYPE_LINUX_SLL2: /* 20-byte header, protocol at 0 */
		if (!cur_peek_be16(&c, 0, &type) || !cur_has(&c, 20))
			return SSMF_SKIP_TRUNC_L2;
		cur_skip(&c, 20);
		return ssmf_decode_ethertype(type, &c, 0, d);
	case DLT_NULL:
		return decode_null(&c, 0, d);
	case DLT_LOOP:
		return decode_null(&c, 1, d);
	case DLT_RAW:
	case 14:  /* DLT_RAW on OpenBSD */
	case 101: /* LINKTYPE_RAW */
		return ssmf_decode_ip(&c, 0, d);
	case LINKTYPE_IPV4:
		return ssmf_decode_ipv4(&c, 0, d);
	case LINKTYPE_IPV6:
		return ssmf_decode_ipv6(&c, 0, d);
	case DLT_C_HDLC: /* Cisco HDLC: address, control, then an ethertype */
		if (!cur_peek_be16(&c, 2, &type))
			return SSMF_SKIP_TRUNC_L2;
		cur_skip(&c, 4);
		return ssmf_decode_ethertype(type, &c, 0, d);
	case DLT_PPP_SERIAL:
	case DLT_PPP: { /* address/control bytes optional, then the PPP protocol */
		uint8_t b0;
		if (!cur_peek_u8(&c, 0, &b0))
			return SSMF_SKIP_TRUNC_L2;
		if (b0 == 0x0f || b0 == 0x8f) /* Cisco HDLC framing in a PPP capture */
			return ssmf_decode_packet(DLT_C_HDLC, c.p, (uint32_t)c.left, d);
		if (b0 == 0xff)
			cur_skip(&c, 2);
		if (!cur_peek_be16(&c, 0, &type))
			return SSMF_SKIP_TRUNC_L2;
		cur_skip(&c, 2);
		return ssmf_decode_ppp_proto(type, &c, 0, d);
	}
	case DLT_PPI: /* per-packet information header, then the inner link type */
		return ssmf_decode_ppi(&c, d);
	case DLT_IEEE802_11:
		return ssmf_decode_ieee80211(&c, 0, 0, d);
	case DLT_IEEE802_11_RADIO:
		return ssmf_decode_radiotap(&c, 0, d);
	case LINKTYPE_NFLOG:
		return ssmf_decode_nflog(&c, d);
	case DLT_FDDI:
		return ssmf_decode_fddi(&c, 0, d);
	default:
		return SSMF_SKIP_LINKTYPE;
	}
}
