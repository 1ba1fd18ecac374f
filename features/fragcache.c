#include "features/fragcache.h"

#include <stdlib.h>
#include <string.h>

struct frag_entry {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint16_t sport, dport;
	uint8_t proto, ip_version, live;
	uint64_t ts_ns;
};

struct ssmf_fragcache {
	uint32_t mask;
	uint64_t timeout_ns;
	struct frag_entry *slots;
};

struct ssmf_fragcache *ssmf_fragcache_new(uint32_t slots, uint64_t timeout_ns)
{
	uint32_t n = 1;
	while (n < slots)
		n <<= 1;
	struct ssmf_fragcache *fc = calloc(1, sizeof *fc);
	if (!fc)
		return NULL;
	fc->slots = calloc(n, sizeof *fc->slots);
	if (!fc->slots) {
		free(fc);
		return NULL;
	}
	fc->mask = n - 1;
	fc->timeout_ns = timeout_ns;
	return fc;
}

static uint32_t slot_of(const struct ssmf_fragcache *fc, const struct ssmf_decoded *d)
{
	uint64_t h = 1469598103934665603ull ^ d->frag_id ^ ((uint64_t)d->proto << 32);
	for (int i = 0; i < 16; i++) {
		h = (h ^ d->src[i]) * 1099511628211ull;
		h = (h ^ d->dst[i]) * 1099511628211ull;
	}
	return (uint32_t)(h ^ (h >> 32)) & fc->mask;
}

static int same_datagram(const struct frag_entry *e, const struct ssmf_decoded *d)
{
	return e->live && e->id == d->frag_id && e->proto == d->proto &&
	       e->ip_version == d->ip_version && memcmp(e->src, d->src, 16) == 0 &&
	       memcmp(e->dst, d->dst, 16) == 0;
}

int ssmf_fragcache_put(struct ssmf_fragcache *fc, const struct ssmf_decoded *d, uint64_t ts_ns)
{
	struct frag_entry *e = &fc->slots[slot_of(fc, d)];
	int evicted = e->live && !same_datagram(e, d) && ts_ns - e->ts_ns < fc->timeout_ns;
	memcpy(e->src, d->src, 16);
	memcpy(e->dst, d->dst, 16);
	e->id = d->frag_id;
	e->sport = d->sport;
	e->dport = d->dport;
	e->proto = d->proto;
	e->ip_version = d->ip_version;
	e->live = 1;
	e->ts_ns = ts_ns;
	return evicted;
}

int ssmf_fragcache_get(struct ssmf_fragcache *fc, struct ssmf_decoded *d, uint64_t ts_ns)
{
	struct frag_entry *e = &fc->slots[slot_of(fc, d)];
	if (!same_datagram(e, d))
		return 0;
	/* Timestamps may go backwards: only a fragment clearly later than the
	 * timeout is too late. */
	if (ts_ns > e->ts_ns && ts_ns - e->ts_ns > fc->timeout_ns) {
		e->live = 0;
		return 0;
	}
	d->sport = e->sport;
	d->dport = e->dport;
	d->has_ports = 1;
	return 1;
}

void ssmf_fragcache_free(struct ssmf_fragcache *fc)
{
	if (!fc)
		return;
	free(fc->slots);
	free(fc);
}
