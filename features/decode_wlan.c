/* IEEE 802.11 data frames (802.11-2020 9.2.4, 9.3.2.1) down to LLC/SNAP.
 *
 * The header is 24 bytes; the To-DS and From-DS bits give the address
 * order (neither: DA SA BSSID; To-DS: BSSID SA DA; From-DS: DA BSSID SA; both:
 * RA TA DA SA, a fourth address, 30 bytes), QoS data adds a 2-byte QoS
 * control and, with the Order bit, a 4-byte HT control. MAC addresses are not
 * part of a flow key, so only the lengths matter here. Management and control
 * frames and data frames without a body (Null, QoS Null, CF-only) are not
 * traffic; protected frames are encrypted payload we cannot read. Both are
 * counted under their own skip reasons.
 */
#include "features/decode.h"

#define FC_TYPE_DATA      2
#define FC_SUBTYPE_NODATA 0x4 /* Null, CF-Ack/Poll without data */
#define FC_SUBTYPE_QOS    0x8
#define FC_TO_DS          0x01
#define FC_FROM_DS        0x02
#define FC_PROTECTED      0x40
#define FC_ORDER          0x80
#define QOS_AMSDU         0x80 /* in the QoS control's first byte */
#define WLAN_HEADER       24
#define WLAN_ADDR_LEN     6
#define AMSDU_SUBHEADER   14 /* DA, SA, length */

enum ssmf_skip_reason ssmf_decode_ieee80211(struct cursor *c, int datapad, int depth,
                                            struct ssmf_decoded *d)
{
	uint8_t fc0, fc1;
	if (!cur_peek_u8(c, 0, &fc0) || !cur_peek_u8(c, 1, &fc1))
		return SSMF_SKIP_TRUNC_L2;
	unsigned version = fc0 & 0x3, type = (fc0 >> 2) & 0x3, subtype = fc0 >> 4;
	if (version != 0)
		return SSMF_SKIP_BAD_ENCAP;
	if (type != FC_TYPE_DATA || (subtype & FC_SUBTYPE_NODATA))
		return SSMF_SKIP_WLAN_NON_DATA;
	size_t hlen = WLAN_HEADER;
	if ((fc1 & (FC_TO_DS | FC_FROM_DS)) == (FC_TO_DS | FC_FROM_DS))
		hlen += WLAN_ADDR_LEN;
	int amsdu = 0;
	if (subtype & FC_SUBTYPE_QOS) {
		uint8_t qos;
		if (!cur_peek_u8(c, hlen, &qos))
			return SSMF_SKIP_TRUNC_L2;
		amsdu = (qos & QOS_AMSDU) != 0;
		hlen += 2;
		if (fc1 & FC_ORDER)
			hlen += 4;
	}
	if (datapad) /* radiotap's data-pad flag: the body starts 4-byte aligned */
		hlen = (hlen + 3) & ~(size_t)3;
	if (!cur_skip(c, hlen))
		return SSMF_SKIP_TRUNC_L2;
	if (fc1 & FC_PROTECTED)
		return SSMF_SKIP_WLAN_PROTECTED;
	/* An A-MSDU carries several MSDUs, each behind DA, SA and a length: the
	 * first one is decoded, as a frame gives one record. */
	if (amsdu && !cur_skip(c, AMSDU_SUBHEADER))
		return SSMF_SKIP_TRUNC_L2;
	return ssmf_decode_llc_snap(c, depth, d);
}
