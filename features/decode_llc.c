/* IEEE 802.2 LLC with a SNAP header (what 802.11 and FDDI carry IP in), and
 * FDDI, whose frames are a 13-byte MAC header followed by LLC. */
#include "features/decode.h"

#define LLC_SAP_SNAP 0xaa
#define LLC_UI       0x03
#define FDDI_HEADER  13 /* frame control, destination, source */

enum ssmf_skip_reason ssmf_decode_llc_snap(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint8_t dsap, ssap, control;
	uint16_t type;
	if (!cur_peek_u8(c, 0, &dsap) || !cur_peek_u8(c, 1, &ssap) || !cur_peek_u8(c, 2, &control))
		return SSMF_SKIP_TRUNC_L2;
	/* Only SNAP carries an ethertype; other SAPs (STP, NetBIOS, ...) are not IP. */
	if (dsap != LLC_SAP_SNAP || ssap != LLC_SAP_SNAP || control != LLC_UI)
		return SSMF_SKIP_NON_IP;
	/* The 3-byte OUI (00-00-00 RFC 1042, 00-00-f8 bridge tunnel) both mean
	 * "an ethertype follows"; other OUIs number their own protocols. */
	uint8_t oui[3];
	if (!cur_peek_bytes(c, 3, oui, sizeof oui) || !cur_peek_be16(c, 6, &type))
		return SSMF_SKIP_TRUNC_L2;
	if (oui[0] != 0 || oui[1] != 0 || (oui[2] != 0 && oui[2] != 0xf8))
		return SSMF_SKIP_NON_IP;
	cur_skip(c, 8);
	return ssmf_decode_ethertype(type, c, depth, d);
}

enum ssmf_skip_reason ssmf_decode_fddi(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint8_t fc;
	if (!cur_peek_u8(c, 0, &fc) || !cur_skip(c, FDDI_HEADER))
		return SSMF_SKIP_TRUNC_L2;
	/* Frame control 0101 0xxx: asynchronous LLC frames; SMT and MAC frames are not data. */
	if ((fc & 0xf8) != 0x50)
		return SSMF_SKIP_NON_IP;
	return ssmf_decode_llc_snap(c, depth, d);
}
