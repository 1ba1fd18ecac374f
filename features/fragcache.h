/* fragcache.h - ports for non-first IP fragments, from their first fragment.
 * A fixed number of slots: a fragment flood overwrites entries, it cannot grow
 * memory. */
#ifndef SSMF_FRAGCACHE_H
#define SSMF_FRAGCACHE_H

#include <stdint.h>

#include "features/decode.h"

struct ssmf_fragcache;

struct ssmf_fragcache *ssmf_fragcache_new(uint32_t slots, uint64_t timeout_ns);
/* Remembers the ports of a first fragment. Returns 1 if it overwrote a live entry. */
int ssmf_fragcache_put(struct ssmf_fragcache *fc, const struct ssmf_decoded *d, uint64_t ts_ns);
/* Fills d's ports from its datagram's first fragment; returns 0 if unknown. */
int ssmf_fragcache_get(struct ssmf_fragcache *fc, struct ssmf_decoded *d, uint64_t ts_ns);
void ssmf_fragcache_free(struct ssmf_fragcache *fc);

#endif
