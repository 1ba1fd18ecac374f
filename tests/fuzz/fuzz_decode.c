/* fuzz_decode.c - the packet decoder: ssmf_decode_packet on hostile bytes.
 *
 * Input: byte 0 picks the link type (from the table below, so that mutations
 * stay on link types the decoder knows), the rest is the packet. libFuzzer
 * hands over an exact-size buffer, so ASan catches any read past caplen.
 */
#include <pcap/dlt.h>

#include "features/decode.h"
#include "tests/fuzz/fuzz.h"

static const int linktypes[] = {
    DLT_EN10MB,
    DLT_LINUX_SLL,
    276 /* SLL2 */,
    DLT_NULL,
    DLT_LOOP,
    DLT_RAW,
    14,
    101,
    228 /* IPv4 */,
    229 /* IPv6 */,
    DLT_C_HDLC,
    DLT_PPP,
    DLT_PPP_SERIAL,
    DLT_PPI,
    DLT_IEEE802_11,
    DLT_IEEE802_11_RADIO,
    239 /* NFLOG */,
    DLT_FDDI,
    147 /* a user link type the decoder does not know */,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int lt = linktypes[data[0] % (sizeof linktypes / sizeof linktypes[0])];
	struct ssmf_decoded d;
	enum ssmf_skip_reason why = ssmf_decode_packet(lt, data + 1, (uint32_t)(size - 1), &d);
	FUZZ_CHECK(why >= SSMF_SKIP_NONE && why < SSMF_SKIP_COUNT);
	if (why == SSMF_SKIP_NONE) {
		FUZZ_CHECK(d.ip_version == 4 || d.ip_version == 6);
		FUZZ_CHECK(d.vlan <= 0x0fff);
		FUZZ_CHECK(!d.first_fragment || d.is_fragment);
	}
	FUZZ_CHECK(ssmf_decode_linktype_supported(lt) == (lt != 147));
	return 0;
}
