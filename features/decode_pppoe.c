/* PPPoE session stage (RFC 2516) and the PPP protocol field. */
#include "features/decode.h"

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

enum ssmf_skip_reason ssmf_decode_ppp_proto(uint16_t proto, struct cursor *c, int depth,
                                            struct ssmf_decoded *d)
{
	switch (proto) {
	case PPP_IPV4:
		return ssmf_decode_ipv4(c, depth, d);
	case PPP_IPV6:
		return ssmf_decode_ipv6(c, depth, d);
	default:
		return SSMF_SKIP_NON_IP;
	}
}

enum ssmf_skip_reason ssmf_decode_pppoe(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint8_t ver_type, code;
	uint16_t proto;
	/* ver/type, code, session id (2), length (2), then the PPP protocol (2). */
	if (!cur_peek_u8(c, 0, &ver_type) || !cur_peek_u8(c, 1, &code) ||
	    !cur_peek_be16(c, 6, &proto))
		return SSMF_SKIP_TRUNC_L2;
	if (ver_type != 0x11 || code != 0)
		return SSMF_SKIP_BAD_ENCAP;
	cur_skip(c, 8);
	return ssmf_decode_ppp_proto(proto, c, depth, d);
}
