/* Transport headers: TCP, UDP, SCTP (ports), ICMP/ICMPv6 (type, code), and the
 * hand-off to the tunnel decoders. Any other protocol makes a port-less flow. */
#include "features/decode.h"
#include "features/ssmf_record.h"

#define PORT_VXLAN 4789
#define PORT_GTPU  2152

/* Decodes an encapsulated packet; on success it replaces the outer fields,
 * else the packet stays a flow of the outer header. */
static void decode_inner(enum ssmf_skip_reason (*fn)(struct cursor *, int, struct ssmf_decoded *),
                         struct cursor *c, int depth, struct ssmf_decoded *d)
{
	if (depth >= SSMF_MAX_ENCAP_DEPTH)
		return;
	struct cursor inner_c = *c;
	struct ssmf_decoded inner = {.vlan = d->vlan};
	if (fn(&inner_c, depth + 1, &inner) != SSMF_SKIP_NONE)
		return;
	if (!inner.tunnel_id) {
		inner.tunnel_id = d->tunnel_id;
		inner.tunnel_key = d->tunnel_key;
	}
	inner.rec_flags |= SSMF_REC_TUNNEL;
	*d = inner;
}

static enum ssmf_skip_reason decode_ipv4_inner(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	return ssmf_decode_ipv4(c, depth, d);
}

static enum ssmf_skip_reason decode_ipv6_inner(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	return ssmf_decode_ipv6(c, depth, d);
}

enum ssmf_skip_reason ssmf_decode_l4(struct cursor *c, uint32_t l4_len, int depth,
                                     struct ssmf_decoded *d)
{
	switch (d->proto) {
	case 6: { /* TCP */
		uint8_t off, flags;
		uint16_t win;
		if (!cur_peek_be16(c, 0, &d->sport) || !cur_peek_be16(c, 2, &d->dport) ||
		    !cur_peek_u8(c, 12, &off) || !cur_peek_u8(c, 13, &flags) ||
		    !cur_peek_be16(c, 14, &win) || l4_len < 20)
			return SSMF_SKIP_TRUNC_L4;
		uint32_t hlen = (uint32_t)(off >> 4) * 4;
		if (hlen < 20 || hlen > l4_len)
			return SSMF_SKIP_BAD_L4_HEADER;
		d->has_ports = 1;
		d->tcp_flags = flags;
		d->tcp_window = win;
		d->payload_len = l4_len - hlen;
		return SSMF_SKIP_NONE;
	}
	case 17:  /* UDP */
	case 136: /* UDP-Lite */
		if (!cur_peek_be16(c, 0, &d->sport) || !cur_peek_be16(c, 2, &d->dport) ||
		    !cur_has(c, 8) || l4_len < 8)
			return SSMF_SKIP_TRUNC_L4;
		d->has_ports = 1;
		d->payload_len = l4_len - 8;
		if (d->is_fragment) /* the inner packet is cut: it stays the outer flow */
			return SSMF_SKIP_NONE;
		if (d->dport == PORT_VXLAN || d->sport == PORT_VXLAN) {
			struct cursor inner = *c;
			cur_skip(&inner, 8);
			decode_inner(ssmf_decode_vxlan, &inner, depth, d);
		} else if (d->dport == PORT_GTPU || d->sport == PORT_GTPU) {
			struct cursor inner = *c;
			cur_skip(&inner, 8);
			decode_inner(ssmf_decode_gtpu, &inner, depth, d);
		}
		return SSMF_SKIP_NONE;
	case 132: /* SCTP */
		if (!cur_peek_be16(c, 0, &d->sport) || !cur_peek_be16(c, 2, &d->dport) ||
		    !cur_has(c, 12) || l4_len < 12)
			return SSMF_SKIP_TRUNC_L4;
		d->has_ports = 1;
		d->payload_len = l4_len - 12;
		return SSMF_SKIP_NONE;
	case 1:  /* ICMP */
	case 58: /* ICMPv6 */
		if (!cur_peek_u8(c, 0, &d->icmp_type) || !cur_peek_u8(c, 1, &d->icmp_code) ||
		    l4_len < 4)
			return SSMF_SKIP_TRUNC_L4;
		d->payload_len = l4_len - 4;
		return SSMF_SKIP_NONE;
	case 4: /* IPv4 in IP */
		d->payload_len = l4_len;
		if (!d->is_fragment)
			decode_inner(decode_ipv4_inner, c, depth, d);
		return SSMF_SKIP_NONE;
	case 41: /* IPv6 in IP */
		d->payload_len = l4_len;
		if (!d->is_fragment)
			decode_inner(decode_ipv6_inner, c, depth, d);
		return SSMF_SKIP_NONE;
	case 47: /* GRE */
		d->payload_len = l4_len;
		if (!d->is_fragment)
			decode_inner(ssmf_decode_gre, c, depth, d);
		return SSMF_SKIP_NONE;
	default:
		d->payload_len = l4_len;
		return SSMF_SKIP_NONE;
	}
}
