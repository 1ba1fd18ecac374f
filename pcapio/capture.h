/* capture.h - packets from one capture file through libpcap.
 *
 * pcap (us and ns) and pcapng, optionally gzip/zstd compressed, from a file
 * or stdin; timestamps are kept in nanoseconds end to end; an optional BPF
 * filter is applied to every packet. A named pcapng file that libpcap cannot
 * represent (interfaces of different link types or snapshot lengths) is read
 * on by pcapng.c from where libpcap stopped; packets then carry their own
 * interface's link type.
 */
#ifndef SSMF_CAPTURE_H
#define SSMF_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct ssmf_packet {
	uint64_t ts_ns;
	uint32_t caplen; /* bytes in data */
	uint32_t len;    /* bytes on the wire */
	int linktype;    /* DLT_ value */
	const uint8_t *data;
};

/* Results of ssmf_capture_next. */
enum ssmf_capture_status {
	SSMF_CAPTURE_PACKET = 1,   /* *pkt holds the next packet */
	SSMF_CAPTURE_END = 0,      /* clean end of input */
	SSMF_CAPTURE_DAMAGED = -1, /* stopped on damage: err says where and why */
};

struct ssmf_capture;

/* Opens `path` ("-" for stdin). Returns NULL with "path: reason" in err when the
 * file cannot be opened, libpcap refuses it, or the filter does not compile. */
struct ssmf_capture *ssmf_capture_open(const char *path, const char *bpf_filter, char *err,
                                       size_t errlen);
/* Next packet that passes the filter. The data stays valid until the next call. */
enum ssmf_capture_status ssmf_capture_next(struct ssmf_capture *c, struct ssmf_packet *pkt,
                                           char *err, size_t errlen);
int ssmf_capture_linktype(const struct ssmf_capture *c);
const char *ssmf_capture_format(const struct ssmf_capture *c); /* "pcap", "pcapng" + ".gz"... */
/* Packets read from the file so far, filtered out ones included. */
uint64_t ssmf_capture_packets_read(const struct ssmf_capture *c);
/* Bytes of the file (as stored: compressed or not) read so far, for progress. */
uint64_t ssmf_capture_bytes_read(const struct ssmf_capture *c);
/* Interface statistics blocks' drop counts of a pcapng input (isb_ifdrop,
 * isb_osdrop; each interface's last ISB, summed), valid after the end of input.
 * libpcap passes no statistics on: where it read the file, a second pass over
 * the block headers reads them (not for stdin). Returns the ISBs read: 0, unknown. */
uint64_t ssmf_capture_drops(const struct ssmf_capture *c, uint64_t *ifdrop, uint64_t *osdrop);
/* Provenance, valid after the end of input: raw file size and SHA-256 (hex). */
uint64_t ssmf_capture_file_bytes(const struct ssmf_capture *c);
void ssmf_capture_sha256_hex(struct ssmf_capture *c, char out[65]);
void ssmf_capture_close(struct ssmf_capture *c);

#endif
