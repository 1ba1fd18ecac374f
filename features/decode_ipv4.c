/* IPv4 (RFC 791), options skipped by IHL; fragments marked for the flow layer. */
#include <string.h>

#include "features/decode.h"
#include "features/ssmf_record.h"

enum ssmf_skip_reason ssmf_decode_ip(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint8_t b0;
	if (!cur_peek_u8(c, 0, &b0))
		return SSMF_SKIP_TRUNC_IP;
	switch (b0 >> 4) {
	case 4:
		return ssmf_decode_ipv4(c, depth, d);
	case 6:
		return ssmf_decode_ipv6(c, depth, d);
	default:
		return SSMF_SKIP_BAD_IP_VERSION;
	}
}

enum ssmf_skip_reason ssmf_decode_ipv4(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint8_t vihl, ttl, proto;
	uint16_t total, frag, id;
	if (!cur_peek_u8(c, 0, &vihl) || !cur_peek_be16(c, 2, &total) ||
	    !cur_peek_be16(c, 4, &id) || !cur_peek_be16(c, 6, &frag) || !cur_peek_u8(c, 8, &ttl) ||
	    !cur_peek_u8(c, 9, &proto) || !cur_peek_bytes(c, 12, d->src, 4) ||
	    !cur_peek_bytes(c, 16, d->dst, 4))
		return SSMF_SKIP_TRUNC_IP;
	if (vihl >> 4 != 4)
		return SSMF_SKIP_BAD_IP_VERSION;
	uint32_t hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (hlen < 20)
		return SSMF_SKIP_BAD_IP_HEADER;
	if (!cur_has(c, hlen))
		return SSMF_SKIP_TRUNC_IP;
	/* A total length of 0 is what segmentation offload leaves in captures
	 * taken on the sending host: the captured bytes are the datagram. */
	uint32_t len = total ? total : (uint32_t)c->left;
	if (len < hlen)
		return SSMF_SKIP_BAD_IP_HEADER;
	memset(d->src + 4, 0, 12);
	memset(d->dst + 4, 0, 12);
	d->ip_version = 4;
	d->ttl = ttl;
	d->proto = proto;
	d->ip_len = len;
	d->rec_flags &= (uint8_t)~SSMF_REC_IPV6;
	uint16_t offset = frag & 0x1fff;
	if ((frag & 0x2000) || offset) {
		d->is_fragment = 1;
		d->first_fragment = offset == 0;
		d->frag_id = id;
		d->rec_flags |= SSMF_REC_FRAGMENT;
	}
	cur_skip(c, hlen);
	if (offset) { /* no L4 header in a non-first fragment */
		d->payload_len = len - hlen;
		return SSMF_SKIP_NONE;
	}
	return ssmf_decode_l4(c, len - hlen, depth, d);
}
