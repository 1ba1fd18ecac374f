/* hasher.h - SHA-256 on a thread of its own.
 *
 * Provenance needs the SHA-256 of every input, and hashing costs as much as
 * the rest of extract's per-byte work; done beside the parser it costs no
 * wall-clock time. Callers queue byte ranges in order and must leave each
 * range unchanged until ssmf_hasher_wait says the hasher is past it.
 */
#ifndef SSMF_HASHER_H
#define SSMF_HASHER_H

#include <stddef.h>
#include <stdint.h>

struct ssmf_hasher;

struct ssmf_hasher *ssmf_hasher_new(void);
/* Queues [p, p+len) and returns its ticket (increasing from 1). */
uint64_t ssmf_hasher_update(struct ssmf_hasher *h, const void *p, size_t len);
/* Waits until the range with this ticket (and all before it) is hashed. */
void ssmf_hasher_wait(struct ssmf_hasher *h, uint64_t ticket);
/* Hashes the whole of file `fd` (from offset 0, with pread) on the thread;
 * use instead of ssmf_hasher_update. fd must stay open until ssmf_hasher_final. */
void ssmf_hasher_file(struct ssmf_hasher *h, int fd);
/* Bytes hashed so far (final: all of them). */
uint64_t ssmf_hasher_bytes(struct ssmf_hasher *h);
/* Waits for everything queued, then gives the digest; no updates after this. */
void ssmf_hasher_final(struct ssmf_hasher *h, uint8_t out[32]);
void ssmf_hasher_free(struct ssmf_hasher *h);

#endif
