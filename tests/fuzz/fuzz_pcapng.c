/* fuzz_pcapng.c - our pcapng block reader (pcapio/pcapng.c) on its own: the
 * input is the decompressed file, read through a memory stream, every packet
 * decoded by its interface's link type. libpcap is not in the way, so every
 * input reaches our block parsing (the capture target only gets there when
 * libpcap gives up on a file). */
#include <stdio.h>
#include <string.h>

#include "features/decode.h"
#include "pcapio/pcapng.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size ? size : 1, "rb");
	if (!f)
		return 0;
	if (!size) { /* fmemopen refuses a zero-size buffer: read nothing instead */
		fseek(f, 0, SEEK_END);
	}
	char err[512] = "";
	struct ssmf_pcapng *r = ssmf_pcapng_open(f, err, sizeof err);
	if (!r) {
		FUZZ_CHECK(err[0] != 0 && memchr(err, 0, sizeof err));
		fclose(f);
		return 0;
	}
	struct ssmf_packet pkt;
	enum ssmf_capture_status st;
	uint64_t n = 0;
	while ((st = ssmf_pcapng_next(r, &pkt, err, sizeof err)) == SSMF_CAPTURE_PACKET) {
		FUZZ_CHECK(pkt.caplen <= size);
		struct ssmf_decoded d;
		ssmf_decode_packet(pkt.linktype, pkt.data, pkt.caplen, &d);
		n++;
	}
	FUZZ_CHECK(st == SSMF_CAPTURE_END || (st == SSMF_CAPTURE_DAMAGED && err[0]));
	/* Every block is at least 12 bytes: no more packets than that allows. */
	FUZZ_CHECK(n <= size / 12);
	uint64_t ifdrop, osdrop;
	FUZZ_CHECK(ssmf_pcapng_drops(r, &ifdrop, &osdrop) <= size / 12);
	ssmf_pcapng_close(r);
	fclose(f);
	return 0;
}
