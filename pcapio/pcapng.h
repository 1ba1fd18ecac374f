/* pcapng.h - a bounded pcapng block reader of our own, for the files libpcap
 * refuses: sections whose interfaces differ in link type or snapshot length
 * (libpcap 1.10 supports one link type per file; Wireshark writes several
 * whenever it captures on several interfaces).
 *
 * Blocks: SHB (either byte order, a new section resets the interfaces), IDB
 * (link type, snap length, if_tsresol, if_tsoffset), EPB, SPB, the obsolete
 * PB, ISB (isb_ifdrop, isb_osdrop); others are skipped by their length. Every
 * length is checked against the block before it is used; a block is at most
 * SSMF_PCAPNG_MAX_BLOCK bytes.
 */
#ifndef SSMF_PCAPNG_H
#define SSMF_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pcapio/capture.h"

#define SSMF_PCAPNG_MAX_BLOCK (16u << 20) /* libpcap's limit too */

struct ssmf_pcapng;

/* Reads the section header from `f` (not closed by the reader). NULL with the
 * reason in err when `f` does not start with a valid section header. */
struct ssmf_pcapng *ssmf_pcapng_open(FILE *f, char *err, size_t errlen);
/* The next packet (linktype: its interface's LINKTYPE_ value); the data stays
 * valid until the next call. On damage, err holds the reason (no file name). */
enum ssmf_capture_status ssmf_pcapng_next(struct ssmf_pcapng *r, struct ssmf_packet *pkt, char *err,
                                          size_t errlen);
/* Interface statistics: the last ISB of each interface, summed over the
 * interfaces. Returns how many ISBs were read (0: the counts are unknown). */
uint64_t ssmf_pcapng_drops(const struct ssmf_pcapng *r, uint64_t *ifdrop, uint64_t *osdrop);
void ssmf_pcapng_close(struct ssmf_pcapng *r);
/* Only the interface statistics of the pcapng file on `f`, other blocks skipped
 * (by fseek where `f` allows it): for files that libpcap read, which passes no
 * statistics on. What was read up to any damage counts. Returns the ISBs read. */
uint64_t ssmf_pcapng_read_stats(FILE *f, uint64_t *ifdrop, uint64_t *osdrop);
/* The same for an uncompressed regular file, its block headers walked in a
 * read-only mapping (0.15 s for a 450 MB, 1.2 M-packet file). */
uint64_t ssmf_pcapng_read_stats_file(const char *path, uint64_t *ifdrop, uint64_t *osdrop);

#endif
