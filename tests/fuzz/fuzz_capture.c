/* fuzz_capture.c - the capture reader, memory-backed: the input is a whole
 * capture file (pcap, pcapng, or either gzip/zstd compressed) in a memfd, read
 * through the same path as `extract` (ssmf_capture_open: instream sniffing and
 * decompression, then libpcap, or our pcapng reader where libpcap gives up),
 * every packet decoded. Provenance (ISB drop counts, size, SHA-256) is taken at
 * the end, as ingest does. */
#include <string.h>
#include <unistd.h>

#include "features/decode.h"
#include "pcapio/capture.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024];
	int fd = fuzz_memfile(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct ssmf_capture *c = ssmf_capture_open(path, NULL, err, sizeof err);
	if (!c) {
		FUZZ_CHECK(err[0] != 0 && memchr(err, 0, sizeof err));
		close(fd);
		return 0;
	}
	struct ssmf_packet pkt;
	enum ssmf_capture_status st;
	uint64_t n = 0;
	while ((st = ssmf_capture_next(c, &pkt, err, sizeof err)) == SSMF_CAPTURE_PACKET) {
		struct ssmf_decoded d;
		ssmf_decode_packet(pkt.linktype, pkt.data, pkt.caplen, &d);
		n++;
	}
	FUZZ_CHECK(st == SSMF_CAPTURE_END || st == SSMF_CAPTURE_DAMAGED);
	FUZZ_CHECK(ssmf_capture_packets_read(c) == n);
	uint64_t ifdrop, osdrop; /* a pcapng's ISBs: a second pass, as ingest does */
	FUZZ_CHECK(ssmf_capture_drops(c, &ifdrop, &osdrop) <= size / 12);
	char sha[65];
	ssmf_capture_sha256_hex(c, sha);
	FUZZ_CHECK(strlen(sha) == 64);
	FUZZ_CHECK(ssmf_capture_file_bytes(c) == size);
	ssmf_capture_close(c);
	close(fd);
	return 0;
}
