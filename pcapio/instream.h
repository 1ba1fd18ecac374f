/* instream.h - a capture file as a byte stream: plain, gzip or zstd, file or stdin.
 *
 * Compression is recognised by magic bytes, not by file name, so `-` can carry
 * a compressed capture too. The raw bytes are hashed (SHA-256) and counted as
 * they are read, which gives each input's provenance without a second pass.
 */
#ifndef SSMF_INSTREAM_H
#define SSMF_INSTREAM_H

#include <stdint.h>
#include <stdio.h>

enum ssmf_compression { SSMF_COMP_NONE, SSMF_COMP_GZIP, SSMF_COMP_ZSTD };

struct ssmf_instream;

/* Opens `path` ("-" is stdin). Returns NULL with a message in err on failure. */
struct ssmf_instream *ssmf_instream_open(const char *path, char *err, size_t errlen);
/* Hands over the decompressed bytes as a stdio stream; the caller closes it
 * (libpcap's pcap_close does) before ssmf_instream_close. */
FILE *ssmf_instream_take_file(struct ssmf_instream *in);
enum ssmf_compression ssmf_instream_compression(const struct ssmf_instream *in);
/* Whether the decompressed bytes start with a pcapng section header block. */
int ssmf_instream_is_pcapng(const struct ssmf_instream *in);
/* A decompression error seen so far, or NULL. */
const char *ssmf_instream_error(const struct ssmf_instream *in);
/* Reads the rest of the raw input so the hash and size cover the whole file. */
void ssmf_instream_drain(struct ssmf_instream *in);
/* Progress: the raw bytes read so far, without draining; for a direct stream (a plain
 * regular file libpcap reads itself) the position of its FILE tells instead. */
int ssmf_instream_is_direct(const struct ssmf_instream *in);
uint64_t ssmf_instream_raw_bytes_so_far(const struct ssmf_instream *in);
/* Raw (on-disk) bytes read so far and their SHA-256 as 64 hex digits. */
uint64_t ssmf_instream_raw_bytes(struct ssmf_instream *in);
void ssmf_instream_sha256_hex(struct ssmf_instream *in, char out[65]);
void ssmf_instream_close(struct ssmf_instream *in);

#endif
