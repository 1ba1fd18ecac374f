/* Capture headers in front of 802.11 frames: radiotap (DLT 127,
 * radiotap.org) and PPI (DLT 192, the CACE Per-Packet Information header).
 * Both say their own length, which is checked against the captured bytes
 * before anything after it is read. Their fields are all little-endian. */
#include <pcap/dlt.h>

#include "features/decode.h"

#define RADIOTAP_MIN_LEN   8
#define RADIOTAP_EXT       (1u << 31) /* another presence word follows */
#define RADIOTAP_TSFT      (1u << 0)
#define RADIOTAP_FLAGS     (1u << 1)
#define RADIOTAP_F_FCS     0x10 /* the frame ends with its 4-byte FCS */
#define RADIOTAP_F_DATAPAD 0x20 /* padding between the 802.11 header and body */
#define PPI_MIN_LEN        8
#define FCS_LEN            4

enum ssmf_skip_reason ssmf_decode_radiotap(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	uint8_t version;
	uint16_t len;
	uint32_t present;
	if (!cur_peek_u8(c, 0, &version) || !cur_peek_le16(c, 2, &len) ||
	    !cur_peek_le32(c, 4, &present))
		return SSMF_SKIP_TRUNC_L2;
	if (version != 0 || len < RADIOTAP_MIN_LEN)
		return SSMF_SKIP_BAD_ENCAP;
	if (!cur_has(c, len))
		return SSMF_SKIP_TRUNC_L2;
	/* The flags byte is the second field: after the presence words and, when
	 * present, the 8-byte-aligned TSFT. Only it changes how the frame reads. */
	struct cursor hdr = {c->p, len};
	size_t off = 8;
	uint32_t word = present;
	while (word & RADIOTAP_EXT) {
		if (!cur_peek_le32(&hdr, off, &word))
			return SSMF_SKIP_BAD_ENCAP;
		off += 4;
	}
	uint8_t flags = 0;
	if (present & RADIOTAP_TSFT)
		off = ((off + 7) & ~(size_t)7) + 8;
	if ((present & RADIOTAP_FLAGS) && !cur_peek_u8(&hdr, off, &flags))
		return SSMF_SKIP_BAD_ENCAP;
	cur_skip(c, len);
	if (flags & RADIOTAP_F_FCS) {
		if (!cur_has(c, FCS_LEN))
			return SSMF_SKIP_TRUNC_L2;
		c->left -= FCS_LEN;
	}
	return ssmf_decode_ieee80211(c, (flags & RADIOTAP_F_DATAPAD) != 0, depth, d);
}

enum ssmf_skip_reason ssmf_decode_ppi(struct cursor *c, struct ssmf_decoded *d)
{
	uint16_t hlen;
	uint32_t inner;
	if (!cur_peek_le16(c, 2, &hlen) || !cur_peek_le32(c, 4, &inner))
		return SSMF_SKIP_TRUNC_L2;
	if (hlen < PPI_MIN_LEN)
		return SSMF_SKIP_BAD_ENCAP;
	if (!cur_skip(c, hlen))
		return SSMF_SKIP_TRUNC_L2;
	if (inner == DLT_PPI) /* PPI in PPI could nest without bound */
		return SSMF_SKIP_BAD_ENCAP;
	return ssmf_decode_packet((int)inner, c->p, (uint32_t)c->left, d);
}
