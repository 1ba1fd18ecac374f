#include "features/flowtable.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/fragcache.h"

const char *const ssmf_end_reason_names[SSMF_END_COUNT] = {
    [SSMF_END_IDLE] = "idle", [SSMF_END_ACTIVE] = "active", [SSMF_END_FIN] = "fin",
    [SSMF_END_RST] = "rst",   [SSMF_END_EOF] = "eof",       [SSMF_END_EVICTED] = "evicted",
};

#define FRAG_SLOTS      8192
#define FRAG_TIMEOUT_NS (30ull * 1000000000ull)

/* Canonical bidirectional key: the (address, port) sides in byte order. */
struct flow_key {
	uint8_t addr_lo[16], addr_hi[16];
	uint16_t port_lo, port_hi;
	uint16_t vlan;
	uint8_t proto, ip_version;
	uint32_t tunnel_id;
	uint32_t zero; /* keeps the struct free of padding, for memcmp and hashing */
};
_Static_assert(sizeof(struct flow_key) == 48, "flow key has no padding");

/* Running mean and variance (Welford), min and max. */
struct running_stat {
	uint64_t n;
	double mean, m2;
	uint64_t min, max;
};

struct flow {
	struct flow_key key;
	uint64_t hash;
	uint32_t next_in_bucket;     /* index + 1, 0 = end */
	uint32_t lru_prev, lru_next; /* index + 1 in the active or closing list */
	uint8_t initiator_is_lo;
	uint8_t closing;     /* SSMF_END_FIN / SSMF_END_RST once closed, else 0 */
	uint8_t fin_seen[2]; /* per direction */
	uint8_t on_closing_list;
	uint64_t close_ts_ns;
	uint64_t last_ts_ns; /* latest packet timestamp of the flow */
	uint64_t prev_ts_ns; /* previous packet's timestamp (for gap_us) */
	uint64_t dir_last_ts_ns[2];
	struct running_stat size[2], iat[2];
	struct ssmf_flow_summary s;
	struct ssmf_record *recs;
	uint32_t nrec, rec_cap;
};

struct flow_list {
	uint32_t head, tail; /* index + 1 */
};

struct ssmf_flowtable {
	struct ssmf_flow_params p;
	ssmf_flow_sink sink;
	void *user;
	struct flow *flows; /* pool; index + 1 is a flow's handle */
	uint32_t cap, used;
	uint32_t free_head; /* free list through next_in_bucket */
	uint32_t *buckets;
	uint32_t nbuckets; /* power of two */
	uint32_t nflows;
	struct flow_list active;  /* by last activity, oldest first */
	struct flow_list closing; /* closed TCP flows in their grace period, by close time */
	uint64_t now_ns;          /* latest timestamp seen */
	int have_now;
	uint64_t memory;
	uint32_t next_flow_id;
	struct ssmf_fragcache *frags;
	struct ssmf_flow_counters c;
};

void ssmf_flow_params_default(struct ssmf_flow_params *p)
{
	p->idle_timeout_ns = 120ull * 1000000000ull;
	p->active_timeout_ns = 1800ull * 1000000000ull;
	p->tcp_close = 1;
	p->tcp_close_grace_ns = 1000000000ull;
	p->max_packets = 1024;
	p->memory_cap_bytes = 1ull << 30;
	p->extra_bytes_per_flow = 0;
}

static struct flow *F(struct ssmf_flowtable *t, uint32_t h)
{
	return &t->flows[h - 1];
}

static void list_remove(struct ssmf_flowtable *t, struct flow_list *l, uint32_t h)
{
	struct flow *f = F(t, h);
	if (f->lru_prev)
		F(t, f->lru_prev)->lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next)
		F(t, f->lru_next)->lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
	f->lru_prev = f->lru_next = 0;
}

static void list_append(struct ssmf_flowtable *t, struct flow_list *l, uint32_t h)
{
	struct flow *f = F(t, h);
	f->lru_prev = l->tail;
	f->lru_next = 0;
	if (l->tail)
		F(t, l->tail)->lru_next = h;
	else
		l->head = h;
	l->tail = h;
}

static uint64_t hash_key(const struct flow_key *k)
{
	/* 64-bit FNV-1a over 8-byte words, then a final mix (splitmix64). */
	const uint8_t *b = (const uint8_t *)k;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < sizeof *k; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 1099511628211ull;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static int make_key(const struct ssmf_decoded *d, struct flow_key *k)
{
	memset(k, 0, sizeof *k);
	uint16_t sport = d->has_ports ? d->sport : 0, dport = d->has_ports ? d->dport : 0;
	int c = memcmp(d->src, d->dst, 16);
	int src_is_lo = c < 0 || (c == 0 && sport <= dport);
	memcpy(k->addr_lo, src_is_lo ? d->src : d->dst, 16);
	memcpy(k->addr_hi, src_is_lo ? d->dst : d->src, 16);
	k->port_lo = src_is_lo ? sport : dport;
	k->port_hi = src_is_lo ? dport : sport;
	k->vlan = d->vlan;
	k->proto = d->proto;
	k->ip_version = d->ip_version;
	k->tunnel_id = d->tunnel_key;
	return src_is_lo;
}

static uint64_t flow_memory(const struct ssmf_flowtable *t, const struct flow *f)
{
	return sizeof *f + t->p.extra_bytes_per_flow +
	       (uint64_t)f->rec_cap * sizeof(struct ssmf_record);
}

static void stat_add(struct running_stat *st, uint64_t x)
{
	st->n++;
	double dx = (double)x - st->mean;
	st->mean += dx / (double)st->n;
	st->m2 += dx * ((double)x - st->mean);
	if (st->n == 1 || x < st->min)
		st->min = x;
	if (x > st->max)
		st->max = x;
}

static double stat_std(const struct running_stat *st)
{
	return st->n > 1 ? sqrt(st->m2 / (double)(st->n - 1)) : 0.0;
}

static int grow_buckets(struct ssmf_flowtable *t)
{
	uint32_t n = t->nbuckets ? t->nbuckets * 2 : 1024;
	uint32_t *b = calloc(n, sizeof *b);
	if (!b)
		return -1;
	for (uint32_t i = 0; i < t->nbuckets; i++) {
		uint32_t h = t->buckets[i];
		while (h) {
			struct flow *f = F(t, h);
			uint32_t next = f->next_in_bucket;
			uint32_t slot = (uint32_t)f->hash & (n - 1);
			f->next_in_bucket = b[slot];
			b[slot] = h;
			h = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
	return 0;
}

static uint32_t lookup(struct ssmf_flowtable *t, const struct flow_key *k, uint64_t hash)
{
	for (uint32_t h = t->buckets[hash & (t->nbuckets - 1)]; h; h = F(t, h)->next_in_bucket) {
		struct flow *f = F(t, h);
		if (f->hash == hash && memcmp(&f->key, k, sizeof *k) == 0)
			return h;
	}
	return 0;
}

static void finish_summary(struct flow *f)
{
	struct ssmf_flow_summary *s = &f->s;
	s->last_ts_ns = f->last_ts_ns;
	s->duration_ns = f->last_ts_ns - s->first_ts_ns;
	s->packet_count = f->nrec;
	s->fwd_size_mean = f->size[0].mean;
	s->fwd_size_std = stat_std(&f->size[0]);
	s->bwd_size_mean = f->size[1].mean;
	s->bwd_size_std = stat_std(&f->size[1]);
	s->fwd_size_min = (uint32_t)f->size[0].min;
	s->fwd_size_max = (uint32_t)f->size[0].max;
	s->bwd_size_min = (uint32_t)f->size[1].min;
	s->bwd_size_max = (uint32_t)f->size[1].max;
	s->fwd_iat_mean_ns = f->iat[0].mean;
	s->fwd_iat_std_ns = stat_std(&f->iat[0]);
	s->bwd_iat_mean_ns = f->iat[1].mean;
	s->bwd_iat_std_ns = stat_std(&f->iat[1]);
	s->fwd_iat_min_ns = f->iat[0].min;
	s->fwd_iat_max_ns = f->iat[0].max;
	s->bwd_iat_min_ns = f->iat[1].min;
	s->bwd_iat_max_ns = f->iat[1].max;
}

/* Ends flow h: hands it to the sink and frees its slot. */
static int end_flow(struct ssmf_flowtable *t, uint32_t h, enum ssmf_end_reason why)
{
	struct flow *f = F(t, h);
	f->s.end_reason = (uint8_t)why;
	t->c.ended[why]++;
	finish_summary(f);
	int rc = t->sink ? t->sink(t->user, &f->s, f->recs) : 0;

	list_remove(t, f->on_closing_list ? &t->closing : &t->active, h);
	uint32_t *pp = &t->buckets[f->hash & (t->nbuckets - 1)];
	while (*pp != h)
		pp = &F(t, *pp)->next_in_bucket;
	*pp = f->next_in_bucket;
	t->memory -= flow_memory(t, f);
	free(f->recs);
	memset(f, 0, sizeof *f);
	f->next_in_bucket = t->free_head;
	t->free_head = h;
	t->nflows--;
	return rc;
}

/* Ends flows whose time is up at `now`: closed flows past their grace, idle flows. */
static int expire(struct ssmf_flowtable *t, uint64_t now)
{
	int rc;
	while (t->closing.head) {
		struct flow *f = F(t, t->closing.head);
		if (now - f->close_ts_ns <= t->p.tcp_close_grace_ns)
			break;
		if ((rc = end_flow(t, t->closing.head, (enum ssmf_end_reason)f->closing)))
			return rc;
	}
	if (!t->p.idle_timeout_ns)
		return 0;
	while (t->active.head) {
		struct flow *f = F(t, t->active.head);
		if (f->last_ts_ns > now || now - f->last_ts_ns < t->p.idle_timeout_ns)
			break;
		if ((rc = end_flow(t, t->active.head, SSMF_END_IDLE)))
			return rc;
	}
	return 0;
}

/* Keeps the table under its memory cap by ending the least recently active
 * flows, never flow `keep` (the one taking the current packet). */
static int enforce_cap(struct ssmf_flowtable *t, uint64_t incoming, uint32_t keep)
{
	int rc;
	while (t->memory + incoming > t->p.memory_cap_bytes) {
		if (t->closing.head && t->closing.head != keep) { /* finished: nothing lost */
			struct flow *f = F(t, t->closing.head);
			rc = end_flow(t, t->closing.head, (enum ssmf_end_reason)f->closing);
		} else if (t->active.head && t->active.head != keep) {
			rc = end_flow(t, t->active.head, SSMF_END_EVICTED);
		} else {
			break; /* only `keep` is left: the cap is smaller than one flow */
		}
		if (rc)
			return rc;
	}
	return 0;
}

static uint32_t new_flow(struct ssmf_flowtable *t, const struct flow_key *k, uint64_t hash,
                         int initiator_is_lo, const struct ssmf_decoded *d, uint64_t ts)
{
	if (t->nflows + 1 > t->nbuckets / 2 && grow_buckets(t) != 0)
		return 0;
	uint32_t h = t->free_head;
	if (h) {
		t->free_head = F(t, h)->next_in_bucket;
	} else {
		if (t->used == t->cap) {
			uint32_t ncap = t->cap ? t->cap * 2 : 1024;
			struct flow *nf = realloc(t->flows, (size_t)ncap * sizeof *nf);
			if (!nf)
				return 0;
			t->flows = nf;
			t->cap = ncap;
		}
		h = ++t->used;
	}
	struct flow *f = F(t, h);
	memset(f, 0, sizeof *f);
	f->key = *k;
	f->hash = hash;
	f->initiator_is_lo = (uint8_t)initiator_is_lo;
	f->next_in_bucket = t->buckets[hash & (t->nbuckets - 1)];
	t->buckets[hash & (t->nbuckets - 1)] = h;
	list_append(t, &t->active, h);
	t->nflows++;
	t->c.flows++;
	t->memory += flow_memory(t, f);

	struct ssmf_flow_summary *s = &f->s;
	s->flow_id = t->next_flow_id++;
	s->first_ts_ns = ts;
	s->label = SSMF_LABEL_NONE;
	s->ip_version = d->ip_version;
	s->protocol = d->proto;
	s->vlan = d->vlan;
	s->tunnel_id = d->tunnel_id;
	memcpy(s->src_addr, initiator_is_lo ? k->addr_lo : k->addr_hi, 16);
	memcpy(s->dst_addr, initiator_is_lo ? k->addr_hi : k->addr_lo, 16);
	s->src_port = initiator_is_lo ? k->port_lo : k->port_hi;
	s->dst_port = initiator_is_lo ? k->port_hi : k->port_lo;
	f->prev_ts_ns = ts;
	f->last_ts_ns = ts;
	return h;
}

static int store_record(struct ssmf_flowtable *t, struct flow *f, const struct ssmf_record *r)
{
	if (f->nrec == t->p.max_packets) {
		t->c.records_dropped++;
		return 0;
	}
	if (f->nrec == f->rec_cap) {
		uint32_t ncap = f->rec_cap ? f->rec_cap * 2 : 4;
		if (ncap > t->p.max_packets)
			ncap = t->p.max_packets;
		struct ssmf_record *nr = realloc(f->recs, (size_t)ncap * sizeof *nr);
		if (!nr)
			return -1;
		t->memory += (uint64_t)(ncap - f->rec_cap) * sizeof *nr;
		f->recs = nr;
		f->rec_cap = ncap;
	}
	f->recs[f->nrec++] = *r;
	return 0;
}

#define TCP_SYN_ONLY(fl) (((fl) & (SSMF_TCP_SYN | SSMF_TCP_ACK)) == SSMF_TCP_SYN)

int ssmf_flowtable_add(struct ssmf_flowtable *t, const struct ssmf_decoded *din, uint64_t ts,
                       uint32_t caplen, uint32_t wire_len, struct ssmf_record *rec_out)
{
	int rc;
	struct ssmf_decoded d = *din;
	t->c.packets++;
	if (!t->have_now || ts > t->now_ns) {
		t->now_ns = ts;
		t->have_now = 1;
	} else if (ts < t->now_ns) {
		t->c.out_of_order++;
	}
	if ((rc = expire(t, t->now_ns)))
		return rc;

	if (d.is_fragment) {
		if (d.first_fragment && d.has_ports) {
			if (ssmf_fragcache_put(t->frags, &d, ts))
				t->c.fragment_cache_evictions++;
		} else if (!d.first_fragment) {
			if (ssmf_fragcache_get(t->frags, &d, ts))
				t->c.fragments_attributed++;
			else
				t->c.fragments_unattributed++;
		}
	}

	struct flow_key k;
	int src_is_lo = make_key(&d, &k);
	uint64_t hash = hash_key(&k);
	uint32_t h = t->nbuckets ? lookup(t, &k, hash) : 0;
	const int tcp = d.proto == 6 && !(d.is_fragment && !d.first_fragment);
	if (h) {
		struct flow *f = F(t, h);
		enum ssmf_end_reason why = SSMF_END_COUNT;
		if (f->closing && (ts > f->close_ts_ns + t->p.tcp_close_grace_ns ||
		                   (tcp && TCP_SYN_ONLY(d.tcp_flags))))
			why =
			    (enum ssmf_end_reason)f->closing; /* a new connection on the same key */
		else if (t->p.idle_timeout_ns && ts > f->last_ts_ns &&
		         ts - f->last_ts_ns >= t->p.idle_timeout_ns)
			why = SSMF_END_IDLE;
		else if (t->p.active_timeout_ns && ts > f->s.first_ts_ns &&
		         ts - f->s.first_ts_ns >= t->p.active_timeout_ns)
			why = SSMF_END_ACTIVE;
		if (why != SSMF_END_COUNT) {
			if ((rc = end_flow(t, h, why)))
				return rc;
			h = 0;
		}
	}
	if (!h) {
		if ((rc = enforce_cap(t, sizeof(struct flow) + t->p.extra_bytes_per_flow, 0)))
			return rc;
		/* The initiator sends the first packet, unless that packet is a
		 * SYN-ACK: then the capture missed the SYN, whose sender is the
		 * receiver of this one. */
		int src_initiates = !(tcp && (d.tcp_flags & (SSMF_TCP_SYN | SSMF_TCP_ACK)) ==
		                                 (SSMF_TCP_SYN | SSMF_TCP_ACK));
		int initiator_is_lo = src_initiates ? src_is_lo : !src_is_lo;
		if (!t->nbuckets && grow_buckets(t) != 0)
			return -1;
		h = new_flow(t, &k, hash, initiator_is_lo, &d, ts);
		if (!h)
			return -1;
	}
	struct flow *f = F(t, h);
	int dir = (src_is_lo == f->initiator_is_lo) ? 0 : 1;
	if (!f->on_closing_list) { /* most recent: the last to be evicted */
		list_remove(t, &t->active, h);
		list_append(t, &t->active, h);
	}

	struct ssmf_record r = {0};
	r.ts_ns = ts;
	r.flow_id = f->s.flow_id;
	uint64_t gap_ns =
	    f->s.fwd_packets + f->s.bwd_packets == 0 || ts < f->prev_ts_ns ? 0 : ts - f->prev_ts_ns;
	uint64_t gap_us = gap_ns / 1000;
	r.gap_us = gap_us > SSMF_GAP_US_MAX ? SSMF_GAP_US_MAX : (uint32_t)gap_us;
	r.ip_len = d.ip_len > UINT16_MAX ? UINT16_MAX : (uint16_t)d.ip_len;
	r.payload_len = d.payload_len > UINT16_MAX ? UINT16_MAX : (uint16_t)d.payload_len;
	r.tcp_window = tcp ? d.tcp_window : 0;
	uint64_t npk = f->s.fwd_packets + f->s.bwd_packets;
	r.pkt_index = npk > SSMF_PKT_INDEX_MAX ? SSMF_PKT_INDEX_MAX : (uint16_t)npk;
	r.tcp_flags = tcp ? d.tcp_flags : 0;
	r.ttl = d.ttl;
	r.ip_proto = d.proto;
	r.direction = (uint8_t)dir;
	r.flags = d.rec_flags;
	if (caplen < wire_len)
		r.flags |= SSMF_REC_TRUNCATED;
	if (npk && ts < f->prev_ts_ns)
		r.flags |= SSMF_REC_OUT_OF_ORDER;
	if (rec_out)
		*rec_out = r;

	uint64_t before = flow_memory(t, f);
	if (store_record(t, f, &r) != 0)
		return -1;
	if (flow_memory(t, f) != before && (rc = enforce_cap(t, 0, h)))
		return rc;
	f = F(t, h); /* enforce_cap never ends flow h */

	/* Summary. */
	struct ssmf_flow_summary *s = &f->s;
	if (dir == 0) {
		s->fwd_packets++;
		s->fwd_bytes += wire_len;
		s->fwd_ip_bytes += d.ip_len;
		s->fwd_payload_bytes += d.payload_len;
	} else {
		s->bwd_packets++;
		s->bwd_bytes += wire_len;
		s->bwd_ip_bytes += d.ip_len;
		s->bwd_payload_bytes += d.payload_len;
	}
	stat_add(&f->size[dir], d.ip_len);
	if (f->dir_last_ts_ns[dir] && ts >= f->dir_last_ts_ns[dir])
		stat_add(&f->iat[dir], ts - f->dir_last_ts_ns[dir]);
	if (ts >= f->dir_last_ts_ns[dir])
		f->dir_last_ts_ns[dir] = ts;
	uint32_t *flag_counts = dir == 0 ? s->fwd_flag_counts : s->bwd_flag_counts;
	for (int b = 0; b < 8; b++)
		flag_counts[b] += (r.tcp_flags >> b) & 1;
	if (ts >= f->prev_ts_ns)
		f->prev_ts_ns = ts;
	if (ts > f->last_ts_ns)
		f->last_ts_ns = ts;

	/* Recency and TCP close. */
	if (f->closing) {
		/* in grace: stays on the closing list */
	} else if (t->p.tcp_close && tcp && (d.tcp_flags & SSMF_TCP_RST)) {
		f->closing = SSMF_END_RST;
	} else if (t->p.tcp_close && tcp && (d.tcp_flags & SSMF_TCP_FIN)) {
		f->fin_seen[dir] = 1;
		if (f->fin_seen[0] && f->fin_seen[1])
			f->closing = SSMF_END_FIN;
	}
	if (f->closing && !f->on_closing_list) {
		f->close_ts_ns = ts;
		f->on_closing_list = 1;
		list_remove(t, &t->active, h);
		list_append(t, &t->closing, h);
	}
	if (t->memory > t->c.peak_memory_bytes)
		t->c.peak_memory_bytes = t->memory;
	return 0;
}

int ssmf_flowtable_flush(struct ssmf_flowtable *t)
{
	int rc;
	while (t->closing.head) {
		struct flow *f = F(t, t->closing.head);
		if ((rc = end_flow(t, t->closing.head, (enum ssmf_end_reason)f->closing)))
			return rc;
	}
	while (t->active.head)
		if ((rc = end_flow(t, t->active.head, SSMF_END_EOF)))
			return rc;
	return 0;
}

int ssmf_flowtable_new_timeline(struct ssmf_flowtable *t)
{
	int rc = ssmf_flowtable_flush(t);
	t->have_now = 0;
	return rc;
}

struct ssmf_flowtable *ssmf_flowtable_new(const struct ssmf_flow_params *p, ssmf_flow_sink sink,
                                          void *user)
{
	struct ssmf_flowtable *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->p = *p;
	if (t->p.max_packets == 0)
		t->p.max_packets = 1;
	t->sink = sink;
	t->user = user;
	t->frags = ssmf_fragcache_new(FRAG_SLOTS, FRAG_TIMEOUT_NS);
	if (!t->frags || grow_buckets(t) != 0) {
		ssmf_flowtable_free(t);
		return NULL;
	}
	return t;
}

const struct ssmf_flow_counters *ssmf_flowtable_counters(const struct ssmf_flowtable *t)
{
	return &t->c;
}

void ssmf_flowtable_free(struct ssmf_flowtable *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->used; i++)
		free(t->flows[i].recs);
	free(t->flows);
	free(t->buckets);
	ssmf_fragcache_free(t->frags);
	free(t);
}
