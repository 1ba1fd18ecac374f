/* Linux NFLOG (DLT 239): what the kernel's nfnetlink_log hands to libpcap.
 *
 * A 4-byte header (address family, version, resource id) and then TLVs: a
 * 16-bit length that counts the 4-byte TLV header, a 16-bit type, the value,
 * padding to 4 bytes. The packet is the NFULA_PAYLOAD TLV. Lengths and types
 * are in the byte order of the host that captured; libpcap rewrites them to
 * the reader's (pcap-common.c swap_nflog_header), and every target this builds
 * for is little-endian. A length below 4 or past the end stops the walk.
 */
#include "features/decode.h"

#define NFLOG_HEADER     4
#define NFLOG_TLV_HEADER 4
#define NFULA_PAYLOAD    9
#define NFULA_TYPE_MASK  0x7fff /* the top bit flags nested attributes */
#define NFLOG_AF_INET    2
#define NFLOG_AF_INET6   10

enum ssmf_skip_reason ssmf_decode_nflog(struct cursor *c, struct ssmf_decoded *d)
{
	uint8_t family, version;
	if (!cur_peek_u8(c, 0, &family) || !cur_peek_u8(c, 1, &version) ||
	    !cur_skip(c, NFLOG_HEADER))
		return SSMF_SKIP_TRUNC_L2;
	if (version != 0)
		return SSMF_SKIP_BAD_ENCAP;
	/* Every TLV consumes at least 4 bytes, so the walk ends within caplen / 4 steps. */
	for (;;) {
		uint16_t len, type;
		if (!cur_peek_le16(c, 0, &len) || !cur_peek_le16(c, 2, &type))
			return SSMF_SKIP_TRUNC_L2;
		if (len < NFLOG_TLV_HEADER)
			return SSMF_SKIP_BAD_ENCAP;
		if (!cur_has(c, len))
			return SSMF_SKIP_TRUNC_L2;
		if ((type & NFULA_TYPE_MASK) == NFULA_PAYLOAD) {
			struct cursor payload = {c->p + NFLOG_TLV_HEADER, len - NFLOG_TLV_HEADER};
			switch (family) {
			case NFLOG_AF_INET:
				return ssmf_decode_ipv4(&payload, 0, d);
			case NFLOG_AF_INET6:
				return ssmf_decode_ipv6(&payload, 0, d);
			default:
				return ssmf_decode_ip(&payload, 0, d);
			}
		}
		size_t padded = ((size_t)len + 3) & ~(size_t)3;
		if (!cur_skip(c, padded <= c->left ? padded : c->left))
			return SSMF_SKIP_TRUNC_L2;
	}
}
