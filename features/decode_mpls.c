/* MPLS label stack: labels until bottom-of-stack, then IP by its version nibble. */
#include "features/decode.h"

enum ssmf_skip_reason ssmf_decode_mpls(struct cursor *c, int depth, struct ssmf_decoded *d)
{
	for (;;) {
		uint32_t label;
		if (depth > SSMF_MAX_ENCAP_DEPTH)
			return SSMF_SKIP_BAD_ENCAP;
		if (!cur_peek_be32(c, 0, &label))
			return SSMF_SKIP_TRUNC_L2;
		cur_skip(c, 4);
		depth++;
		if (label & 0x100) /* bottom of stack */
			break;
	}
	return ssmf_decode_ip(c, depth, d);
}
