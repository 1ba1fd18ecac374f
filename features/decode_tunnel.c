/* Tunnels: GRE (RFC 2784/2890), VXLAN (RFC 7348) and GTP-U (3GPP TS 29.281).
 * Each strips its header and decodes the inner packet. The tunnel id (GRE key,
 * VNI, TEID) is recorded; only the VNI is part of the flow key, since a GTP-U
 * TEID and a PPTP call id differ between the two directions of one flow. */
#include "features/decode.h"

#define ETHERTYPE_TEB 0x6558 /* transparent Ethernet bridging */

enum ssmf_skip_reason ssmf_decode_gre(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint16_t flags, proto;
	if (!cur_peek_be16(c, 0, &flags) || !cur_peek_be16(c, 2, &proto))
		return SSMF_SKIP_TRUNC_L4;
	if ((flags & 0x0007) > 1) /* version 0 (GRE) or 1 (PPTP's enhanced GRE) */
		return SSMF_SKIP_BAD_ENCAP;
	size_t off = 4;
	if (flags & 0x8000) /* checksum present */
		off += 4;
	if (flags & 0x2000) { /* key present */
		uint32_t key;
		if (!cur_peek_be32(c, off, &key))
			return SSMF_SKIP_TRUNC_L4;
		d->tunnel_id = key;
		off += 4;
	}
	if (flags & 0x1000) /* sequence number present */
		off += 4;
	if ((flags & 0x0007) == 1 && (flags & 0x0080)) /* enhanced GRE acknowledgment */
		off += 4;
	if (!cur_skip(c, off))
		return SSMF_SKIP_TRUNC_L4;
	if (proto == ETHERTYPE_TEB)
		return ssmf_decode_ethernet(c, depth, d);
	if (proto == 0x880b) { /* PPP inside enhanced GRE */
		uint8_t b0;
		uint16_t ppp;
		if (!cur_peek_u8(c, 0, &b0))
			return SSMF_SKIP_TRUNC_L2;
		if (b0 == 0xff)
			cur_skip(c, 2);
		if (!cur_peek_be16(c, 0, &ppp))
			return SSMF_SKIP_TRUNC_L2;
		cur_skip(c, 2);
		return ssmf_decode_ppp_proto(ppp, c, depth, d);
	}
	return ssmf_decode_ethertype(proto, c, depth, d);
}

enum ssmf_skip_reason ssmf_decode_vxlan(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint8_t flags;
	uint32_t vni;
	if (!cur_peek_u8(c, 0, &flags) || !cur_peek_be32(c, 4, &vni))
		return SSMF_SKIP_TRUNC_L4;
	if (!(flags & 0x08)) /* the I flag: a valid VNI */
		return SSMF_SKIP_BAD_ENCAP;
	d->tunnel_id = vni >> 8;
	d->tunnel_key = vni >> 8; /* one VNI both ways: it names the tenant network */
	cur_skip(c, 8);
	return ssmf_decode_ethernet(c, depth, d);
}

enum ssmf_skip_reason ssmf_decode_gtpu(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint8_t flags, type;
	uint32_t teid;
	if (!cur_peek_u8(c, 0, &flags) || !cur_peek_u8(c, 1, &type) || !cur_peek_be32(c, 4, &teid))
		return SSMF_SKIP_TRUNC_L4;
	if (flags >> 5 != 1 || type != 0xff) /* GTPv1, G-PDU carries user packets */
		return SSMF_SKIP_BAD_ENCAP;
	size_t off = 8;
	if (flags & 0x07) { /* sequence, N-PDU and next-extension fields */
		uint8_t next;
		off = 12;
		if (!cur_peek_u8(c, 11, &next))
			return SSMF_SKIP_TRUNC_L4;
		for (int n = 0; next && n < SSMF_MAX_ENCAP_DEPTH; n++) {
			uint8_t len4;
			if (!cur_peek_u8(c, off, &len4) || len4 == 0)
				return SSMF_SKIP_BAD_ENCAP;
			off += (size_t)len4 * 4;
			if (!cur_peek_u8(c, off - 1, &next))
				return SSMF_SKIP_TRUNC_L4;
		}
		if (next)
			return SSMF_SKIP_BAD_ENCAP;
	}
	d->tunnel_id = teid;
	if (!cur_skip(c, off))
		return SSMF_SKIP_TRUNC_L4;
	return ssmf_decode_ip(c, depth, d);
}
