/* IPv6 (RFC 8200) and its extension header chain, bounded in length. */
#include "features/decode.h"
#include "features/ssmf_record.h"

#define IP6_MAX_EXT_HEADERS 16

enum ssmf_skip_reason ssmf_decode_ipv6(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint8_t b0, next, hops;
	uint16_t plen;
	if (!cur_peek_u8(c, 0, &b0) || !cur_peek_be16(c, 4, &plen) || !cur_peek_u8(c, 6, &next) ||
	    !cur_peek_u8(c, 7, &hops) || !cur_peek_bytes(c, 8, d->src, 16) ||
	    !cur_peek_bytes(c, 24, d->dst, 16))
		return SSMF_SKIP_TRUNC_IP;
	if (b0 >> 4 != 6)
		return SSMF_SKIP_BAD_IP_VERSION;
	cur_skip(c, 40);
	/* Payload length 0 is a jumbogram or offload: the captured bytes are it. */
	uint32_t left = plen ? plen : (uint32_t)c->left;
	d->ip_version = 6;
	d->ttl = hops;
	d->ip_len = left + 40;
	d->rec_flags |= SSMF_REC_IPV6;
	for (int n = 0;; n++) {
		uint8_t hlen8;
		uint32_t hlen;
		switch (next) {
		case 0:   /* hop-by-hop options */
		case 43:  /* routing */
		case 60:  /* destination options */
		case 135: /* mobility */
		case 139: /* HIP */
		case 140: /* shim6 */
			if (!cur_peek_u8(c, 1, &hlen8))
				return SSMF_SKIP_TRUNC_IP;
			hlen = ((uint32_t)hlen8 + 1) * 8;
			break;
		case 51: /* AH: length in 4-byte units, minus 2 */
			if (!cur_peek_u8(c, 1, &hlen8))
				return SSMF_SKIP_TRUNC_IP;
			hlen = ((uint32_t)hlen8 + 2) * 4;
			break;
		case 44: { /* fragment */
			uint16_t off;
			uint32_t id;
			if (!cur_peek_be16(c, 2, &off) || !cur_peek_be32(c, 4, &id))
				return SSMF_SKIP_TRUNC_IP;
			hlen = 8;
			d->is_fragment = 1;
			d->first_fragment = (off & 0xfff8) == 0;
			d->frag_id = id;
			d->rec_flags |= SSMF_REC_FRAGMENT;
			break;
		}
		default:
			d->proto = next;
			if (d->is_fragment && !d->first_fragment) {
				d->payload_len = left;
				return SSMF_SKIP_NONE;
			}
			return ssmf_decode_l4(c, left, depth, d);
		}
		if (n >= IP6_MAX_EXT_HEADERS || hlen > left)
			return SSMF_SKIP_BAD_IP6_EXT;
		uint8_t following;
		if (!cur_peek_u8(c, 0, &following) || !cur_skip(c, hlen))
			return SSMF_SKIP_TRUNC_IP;
		next = following;
		left -= hlen;
		if (next == 44 && d->is_fragment) /* two fragment headers */
			return SSMF_SKIP_BAD_IP6_EXT;
		if (d->is_fragment && !d->first_fragment) {
			d->proto = next;
			d->payload_len = left;
			return SSMF_SKIP_NONE;
		}
	}
}
