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

/* Canonical bidirectional key: the (address, port) sides in byte order, as six
 * words built in registers, hashed and compared word by word (a struct of
 * narrow fields, stored and read back as words, stalls store forwarding).
 * w[0..1] the lower address's bytes, w[2..3] the higher's, w[4] the packed
 * KEY_* fields below, w[5] the tunnel key. */
struct flow_key {
	uint64_t w[6];
};
#define KEY_PORT_LO(w4) ((uint16_t)(w4))
#define KEY_PORT_HI(w4) ((uint16_t)((w4) >> 16))
#define KEY_VLAN(w4)    ((uint16_t)((w4) >> 32))
#define KEY_PROTO(w4)   ((uint8_t)((w4) >> 48))
#define KEY_IPVER(w4)   ((uint8_t)((w4) >> 56))

/* Running mean and variance (Welford), min and max. */
struct running_stat {
	uint64_t n;
	double mean, m2;
	uint64_t min, max;
};

/* What one direction of a flow adds up, packet by packet. */
struct dir_state {
	uint64_t packets, bytes, ip_bytes, payload_bytes;
	uint64_t last_ts_ns;
	struct running_stat size, iat;
	uint32_t flag_counts[8];
};

/* A flow's state, the fields each packet touches first. The summary row is
 * built when the flow ends (flow_summary): keeping it out makes the state
 * touched per packet a few cache lines instead of ten. */
struct flow {
	struct flow_key key;
	uint32_t flow_id;
	uint32_t nrec, rec_cap;
	uint8_t initiator_is_lo;
	uint8_t closing;     /* SSMF_END_FIN / SSMF_END_RST once closed, else 0 */
	uint8_t fin_seen[2]; /* per direction */
	uint8_t on_closing_list;
	uint8_t icmp_type, icmp_code; /* the first packet's, for the Community ID */
	uint64_t first_ts_ns;
	uint64_t last_ts_ns; /* latest packet timestamp of the flow */
	uint64_t prev_ts_ns; /* previous packet's timestamp (for gap_us) */
	uint64_t close_ts_ns;
	struct ssmf_record *recs;
	uint32_t tunnel_id; /* the first packet's (GTP TEID, GRE key, VNI) */
	struct dir_state dir[2];
};

/* Hash chain and recency links, apart from struct flow in a dense array: the
 * list upkeep of every packet touches a neighbour's links, and those stay in
 * cache when they are 16 bytes per flow rather than a flow's state. */
struct flow_link {
	uint32_t hash;               /* low bits of the key's hash (all a bucket index uses) */
	uint32_t next_in_bucket;     /* index + 1, 0 = end; the free list when unused */
	uint32_t lru_prev, lru_next; /* index + 1 in the active or closing list */
};

/* Memory charged per pool slot against the cap: a flow's state and links, and the
 * malloc overhead of its record buffer (the size of the flow state before it was split).
 * The pool never shrinks, so a slot is charged from the moment the pool takes it until the
 * table is freed, whether a flow holds it or it waits on the free list: otherwise the
 * slots freed by a burst of short flows would hold memory the cap does not see. */
#define SLOT_CHARGE_BYTES 632u
_Static_assert(sizeof(struct flow) + sizeof(struct flow_link) <= SLOT_CHARGE_BYTES,
               "the charge per slot covers a flow's state");

struct flow_list {
	uint32_t head, tail; /* index + 1 */
};

struct ssmf_flowtable {
	struct ssmf_flow_params p;
	ssmf_flow_sink sink;
	ssmf_flow_chunk_sink chunk_sink; /* NULL: records past max_packets are dropped */
	void *user;
	struct flow *flows;      /* pool; index + 1 is a flow's handle */
	struct flow_link *links; /* beside flows, same index */
	uint32_t cap, used;
	uint32_t free_head; /* free list through links[].next_in_bucket */
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
	struct ssmf_community_id *cid;
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
	p->community_id_seed = 0;
}

static struct flow *F(struct ssmf_flowtable *t, uint32_t h)
{
	return &t->flows[h - 1];
}

static struct flow_link *L(struct ssmf_flowtable *t, uint32_t h)
{
	return &t->links[h - 1];
}

static void list_remove(struct ssmf_flowtable *t, struct flow_list *l, uint32_t h)
{
	struct flow_link *f = L(t, h);
	if (f->lru_prev)
		L(t, f->lru_prev)->lru_next = f->lru_next;
	else
		l->head = f->lru_next;
	if (f->lru_next)
		L(t, f->lru_next)->lru_prev = f->lru_prev;
	else
		l->tail = f->lru_prev;
	f->lru_prev = f->lru_next = 0;
}

static void list_append(struct ssmf_flowtable *t, struct flow_list *l, uint32_t h)
{
	struct flow_link *f = L(t, h);
	f->lru_prev = l->tail;
	f->lru_next = 0;
	if (l->tail)
		L(t, l->tail)->lru_next = h;
	else
		l->head = h;
	l->tail = h;
}

static uint64_t hash_key(const struct flow_key *k)
{
	/* 64-bit FNV-1a over the words, then a final mix (splitmix64). */
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < 6; i++)
		h = (h ^ k->w[i]) * 1099511628211ull;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/* memcmp(a, b, 16) < 0, 0 or > 0 as -1, 0, 1, without the call. */
static int addr_cmp(const uint8_t a[16], const uint8_t b[16])
{
	uint64_t a0 = load_be64(a), b0 = load_be64(b);
	if (a0 != b0)
		return a0 < b0 ? -1 : 1;
	uint64_t a1 = load_be64(a + 8), b1 = load_be64(b + 8);
	return a1 < b1 ? -1 : a1 > b1;
}

static int key_equal(const struct flow_key *a, const struct flow_key *b)
{
	return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
	        (a->w[3] ^ b->w[3]) | (a->w[4] ^ b->w[4]) | (a->w[5] ^ b->w[5])) == 0;
}

static int make_key(const struct ssmf_decoded *d, struct flow_key *k)
{
	uint16_t sport = d->has_ports ? d->sport : 0, dport = d->has_ports ? d->dport : 0;
	int c = addr_cmp(d->src, d->dst);
	int src_is_lo = c < 0 || (c == 0 && sport <= dport);
	uint64_t a[2], b[2];
	memcpy(a, src_is_lo ? d->src : d->dst, 16);
	memcpy(b, src_is_lo ? d->dst : d->src, 16);
	uint16_t port_lo = src_is_lo ? sport : dport, port_hi = src_is_lo ? dport : sport;
	k->w[0] = a[0];
	k->w[1] = a[1];
	k->w[2] = b[0];
	k->w[3] = b[1];
	k->w[4] = (uint64_t)port_lo | (uint64_t)port_hi << 16 | (uint64_t)d->vlan << 32 |
	          (uint64_t)d->proto << 48 | (uint64_t)d->ip_version << 56;
	k->w[5] = d->tunnel_key;
	return src_is_lo;
}

/* A flow's own memory, its slot aside (charged while the pool holds it). */
static uint64_t flow_memory(const struct ssmf_flowtable *t, const struct flow *f)
{
	return t->p.extra_bytes_per_flow + (uint64_t)f->rec_cap * sizeof(struct ssmf_record);
}

/* What a new flow adds: the caller's state, and a slot when none is free. */
static uint64_t new_flow_charge(const struct ssmf_flowtable *t)
{
	return t->p.extra_bytes_per_flow + (t->free_head ? 0 : SLOT_CHARGE_BYTES);
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
			struct flow_link *f = L(t, h);
			uint32_t next = f->next_in_bucket;
			uint32_t slot = f->hash & (n - 1);
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

static uint32_t lookup(struct ssmf_flowtable *t, const struct flow_key *k, uint32_t hash)
{
	for (uint32_t h = t->buckets[hash & (t->nbuckets - 1)]; h; h = L(t, h)->next_in_bucket)
		if (L(t, h)->hash == hash && key_equal(&F(t, h)->key, k))
			return h;
	return 0;
}

/* The summary row of flow f, built from its state when it ends. */
static void flow_summary(const struct flow *f, struct ssmf_community_id *cid_hasher,
                         struct ssmf_flow_summary *s)
{
	const uint64_t w4 = f->key.w[4];
	const struct dir_state *fw = &f->dir[0], *bw = &f->dir[1];
	int lo = f->initiator_is_lo;
	memset(s, 0, sizeof *s);
	s->flow_id = f->flow_id;
	s->first_ts_ns = f->first_ts_ns;
	s->last_ts_ns = f->last_ts_ns;
	s->duration_ns = f->last_ts_ns - f->first_ts_ns;
	s->packet_count = f->nrec;
	s->label = SSMF_LABEL_NONE;
	s->ip_version = KEY_IPVER(w4);
	s->protocol = KEY_PROTO(w4);
	s->vlan = KEY_VLAN(w4);
	s->tunnel_id = f->tunnel_id;
	memcpy(s->src_addr, &f->key.w[lo ? 0 : 2], 16);
	memcpy(s->dst_addr, &f->key.w[lo ? 2 : 0], 16);
	s->src_port = lo ? KEY_PORT_LO(w4) : KEY_PORT_HI(w4);
	s->dst_port = lo ? KEY_PORT_HI(w4) : KEY_PORT_LO(w4);
	s->fwd_packets = fw->packets;
	s->bwd_packets = bw->packets;
	s->fwd_bytes = fw->bytes;
	s->bwd_bytes = bw->bytes;
	s->fwd_ip_bytes = fw->ip_bytes;
	s->bwd_ip_bytes = bw->ip_bytes;
	s->fwd_payload_bytes = fw->payload_bytes;
	s->bwd_payload_bytes = bw->payload_bytes;
	memcpy(s->fwd_flag_counts, fw->flag_counts, sizeof s->fwd_flag_counts);
	memcpy(s->bwd_flag_counts, bw->flag_counts, sizeof s->bwd_flag_counts);
	s->fwd_size_mean = fw->size.mean;
	s->fwd_size_std = stat_std(&fw->size);
	s->bwd_size_mean = bw->size.mean;
	s->bwd_size_std = stat_std(&bw->size);
	s->fwd_size_min = (uint32_t)fw->size.min;
	s->fwd_size_max = (uint32_t)fw->size.max;
	s->bwd_size_min = (uint32_t)bw->size.min;
	s->bwd_size_max = (uint32_t)bw->size.max;
	s->fwd_iat_mean_ns = fw->iat.mean;
	s->fwd_iat_std_ns = stat_std(&fw->iat);
	s->bwd_iat_mean_ns = bw->iat.mean;
	s->bwd_iat_std_ns = stat_std(&bw->iat);
	s->fwd_iat_min_ns = fw->iat.min;
	s->fwd_iat_max_ns = fw->iat.max;
	s->bwd_iat_min_ns = bw->iat.min;
	s->bwd_iat_max_ns = bw->iat.max;
	const int icmp = s->protocol == 1 || s->protocol == 58;
	const struct ssmf_cid_tuple cid = {
	    .src = s->src_addr,
	    .dst = s->dst_addr,
	    .ip_version = s->ip_version,
	    .proto = s->protocol,
	    .sport = icmp ? f->icmp_type : s->src_port,
	    .dport = icmp ? f->icmp_code : s->dst_port,
	};
	ssmf_community_id(cid_hasher, &cid, s->community_id);
}

/* Ends flow h: hands it to the sink and frees its slot. */
static int end_flow(struct ssmf_flowtable *t, uint32_t h, enum ssmf_end_reason why)
{
	struct flow *f = F(t, h);
	struct ssmf_flow_summary s;
	flow_summary(f, t->cid, &s);
	s.end_reason = (uint8_t)why;
	t->c.ended[why]++;
	int rc = t->sink ? t->sink(t->user, &s, f->recs) : 0;

	list_remove(t, f->on_closing_list ? &t->closing : &t->active, h);
	struct flow_link *l = L(t, h);
	uint32_t *pp = &t->buckets[l->hash & (t->nbuckets - 1)];
	while (*pp != h)
		pp = &L(t, *pp)->next_in_bucket;
	*pp = l->next_in_bucket;
	t->memory -= flow_memory(t, f);
	free(f->recs);
	f->recs = NULL; /* the rest is cleared when the slot is reused */
	l->next_in_bucket = t->free_head;
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
 * flows, never flow `keep` (the one taking the current packet). With keep 0 the room is
 * for a new flow, whose charge drops to its own state once an ended flow frees a slot. */
static int enforce_cap(struct ssmf_flowtable *t, uint32_t keep)
{
	int rc;
	while (t->memory + (keep ? 0 : new_flow_charge(t)) > t->p.memory_cap_bytes) {
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

/* A free slot for a new flow: from the free list, else the pool grows. */
static uint32_t take_slot(struct ssmf_flowtable *t)
{
	uint32_t h = t->free_head;
	if (h) {
		t->free_head = L(t, h)->next_in_bucket;
		return h;
	}
	if (t->used == t->cap) {
		uint32_t ncap = t->cap ? t->cap * 2 : 1024;
		struct flow *nf = realloc(t->flows, (size_t)ncap * sizeof *nf);
		if (!nf)
			return 0;
		t->flows = nf;
		struct flow_link *nl = realloc(t->links, (size_t)ncap * sizeof *nl);
		if (!nl)
			return 0;
		t->links = nl;
		t->cap = ncap;
	}
	t->memory += SLOT_CHARGE_BYTES;
	return ++t->used;
}

static uint32_t new_flow(struct ssmf_flowtable *t, const struct flow_key *k, uint32_t hash,
                         int initiator_is_lo, const struct ssmf_decoded *d, uint64_t ts)
{
	if (t->nflows + 1 > t->nbuckets / 2 && grow_buckets(t) != 0)
		return 0;
	uint32_t h = take_slot(t);
	if (!h)
		return 0;
	struct flow *f = F(t, h);
	memset(f, 0, sizeof *f);
	f->key = *k;
	f->initiator_is_lo = (uint8_t)initiator_is_lo;
	struct flow_link *l = L(t, h);
	l->hash = hash;
	l->next_in_bucket = t->buckets[hash & (t->nbuckets - 1)];
	t->buckets[hash & (t->nbuckets - 1)] = h;
	list_append(t, &t->active, h);
	t->nflows++;
	t->c.flows++;
	t->memory += flow_memory(t, f);
	f->flow_id = t->next_flow_id++;
	f->first_ts_ns = ts;
	f->tunnel_id = d->tunnel_id;
	f->icmp_type = d->icmp_type;
	f->icmp_code = d->icmp_code;
	f->prev_ts_ns = ts;
	f->last_ts_ns = ts;
	return h;
}

/* Where the flow's next record goes: its slot in f->recs, or `spare` when the
 * flow already holds max_packets records (the packet is counted, not stored).
 * NULL when memory ran out. */
static struct ssmf_record *record_slot(struct ssmf_flowtable *t, struct flow *f,
                                       struct ssmf_record *spare)
{
	if (f->nrec == t->p.max_packets) {
		t->c.records_dropped++;
		return spare;
	}
	if (f->nrec == f->rec_cap) {
		uint32_t ncap = f->rec_cap ? f->rec_cap * 2 : 4;
		if (ncap > t->p.max_packets)
			ncap = t->p.max_packets;
		/* malloc + copy + free: for these small blocks glibc serves both
		 * from its per-thread cache, where realloc costs ~4x as much */
		struct ssmf_record *nr = malloc((size_t)ncap * sizeof *nr);
		if (!nr)
			return NULL;
		if (f->nrec)
			memcpy(nr, f->recs, (size_t)f->nrec * sizeof *nr);
		free(f->recs);
		t->memory += (uint64_t)(ncap - f->rec_cap) * sizeof *nr;
		f->recs = nr;
		f->rec_cap = ncap;
	}
	return &f->recs[f->nrec++];
}

#define TCP_SYN_ONLY(fl) (((fl) & (SSMF_TCP_SYN | SSMF_TCP_ACK)) == SSMF_TCP_SYN)

/* Why an existing flow must end before it takes this packet, or SSMF_END_COUNT. */
static enum ssmf_end_reason ends_before(const struct ssmf_flowtable *t, const struct flow *f,
                                        uint64_t ts, int tcp, uint8_t tcp_flags)
{
	if (f->closing &&
	    (ts > f->close_ts_ns + t->p.tcp_close_grace_ns || (tcp && TCP_SYN_ONLY(tcp_flags))))
		return (enum ssmf_end_reason)f->closing; /* a new connection on the same key */
	if (t->p.idle_timeout_ns && ts > f->last_ts_ns &&
	    ts - f->last_ts_ns >= t->p.idle_timeout_ns)
		return SSMF_END_IDLE;
	if (t->p.active_timeout_ns && ts > f->first_ts_ns &&
	    ts - f->first_ts_ns >= t->p.active_timeout_ns)
		return SSMF_END_ACTIVE;
	return SSMF_END_COUNT;
}

/* The packet's record, written field by field where it is kept: a record built
 * aside and copied is read back as wide words right after narrow stores, which
 * stalls store forwarding. */
static void build_record(const struct flow *f, const struct ssmf_decoded *d, uint64_t ts, int tcp,
                         int dir, int truncated, struct ssmf_record *r)
{
	uint64_t npk = f->dir[0].packets + f->dir[1].packets; /* before this one */
	*r = (struct ssmf_record){0};
	r->ts_ns = ts;
	r->flow_id = f->flow_id;
	uint64_t gap_ns = npk == 0 || ts < f->prev_ts_ns ? 0 : ts - f->prev_ts_ns;
	uint64_t gap_us = gap_ns / 1000;
	r->gap_us = gap_us > SSMF_GAP_US_MAX ? SSMF_GAP_US_MAX : (uint32_t)gap_us;
	r->ip_len = d->ip_len > UINT16_MAX ? UINT16_MAX : (uint16_t)d->ip_len;
	r->payload_len = d->payload_len > UINT16_MAX ? UINT16_MAX : (uint16_t)d->payload_len;
	r->tcp_window = tcp ? d->tcp_window : 0;
	r->pkt_index = npk > SSMF_PKT_INDEX_MAX ? SSMF_PKT_INDEX_MAX : (uint16_t)npk;
	r->tcp_flags = tcp ? d->tcp_flags : 0;
	r->ttl = d->ttl;
	r->ip_proto = d->proto;
	r->direction = (uint8_t)dir;
	r->flags = d->rec_flags;
	if (truncated)
		r->flags |= SSMF_REC_TRUNCATED;
	if (npk && ts < f->prev_ts_ns)
		r->flags |= SSMF_REC_OUT_OF_ORDER;
}

/* Adds the packet to its direction's totals and statistics. */
static void count_packet(struct flow *f, int dir, const struct ssmf_decoded *d, uint64_t ts,
                         uint32_t wire_len, uint8_t tcp_flags)
{
	struct dir_state *ds = &f->dir[dir];
	ds->packets++;
	ds->bytes += wire_len;
	ds->ip_bytes += d->ip_len;
	ds->payload_bytes += d->payload_len;
	stat_add(&ds->size, d->ip_len);
	if (ds->last_ts_ns && ts >= ds->last_ts_ns)
		stat_add(&ds->iat, ts - ds->last_ts_ns);
	if (ts >= ds->last_ts_ns)
		ds->last_ts_ns = ts;
	for (unsigned fl = tcp_flags; fl; fl &= fl - 1)
		ds->flag_counts[__builtin_ctz(fl)]++;
	if (ts >= f->prev_ts_ns)
		f->prev_ts_ns = ts;
	if (ts > f->last_ts_ns)
		f->last_ts_ns = ts;
}

/* Fragments: a first one leaves its ports for the rest, which take them. */
static void attribute_fragment(struct ssmf_flowtable *t, struct ssmf_decoded *d, uint64_t ts)
{
	if (d->first_fragment && d->has_ports) {
		if (ssmf_fragcache_put(t->frags, d, ts))
			t->c.fragment_cache_evictions++;
	} else if (!d->first_fragment) {
		if (ssmf_fragcache_get(t->frags, d, ts))
			t->c.fragments_attributed++;
		else
			t->c.fragments_unattributed++;
	}
}

/* TCP close: RST, or FIN both ways, moves the flow to the closing list. */
static void track_close(struct ssmf_flowtable *t, uint32_t h, int tcp, int dir, uint8_t tcp_flags,
                        uint64_t ts)
{
	struct flow *f = F(t, h);
	if (f->closing) {
		/* in grace: stays on the closing list */
	} else if (t->p.tcp_close && tcp && (tcp_flags & SSMF_TCP_RST)) {
		f->closing = SSMF_END_RST;
	} else if (t->p.tcp_close && tcp && (tcp_flags & SSMF_TCP_FIN)) {
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
}

int ssmf_flowtable_add(struct ssmf_flowtable *t, const struct ssmf_decoded *din, uint64_t ts,
                       uint32_t caplen, uint32_t wire_len, struct ssmf_record *rec_out)
{
	int rc;
	struct ssmf_decoded frag_d;
	const struct ssmf_decoded *d = din;
	t->c.packets++;
	if (!t->have_now || ts > t->now_ns) {
		t->now_ns = ts;
		t->have_now = 1;
	} else if (ts < t->now_ns) {
		t->c.out_of_order++;
	}
	if ((rc = expire(t, t->now_ns)))
		return rc;
	if (din->is_fragment) { /* may take its ports from the first fragment: a copy */
		frag_d = *din;
		attribute_fragment(t, &frag_d, ts);
		d = &frag_d;
	}

	struct flow_key k;
	int src_is_lo = make_key(d, &k);
	uint32_t hash = (uint32_t)hash_key(&k);
	uint32_t h = t->nbuckets ? lookup(t, &k, hash) : 0;
	const int tcp = d->proto == 6 && !(d->is_fragment && !d->first_fragment);
	if (h) {
		enum ssmf_end_reason why = ends_before(t, F(t, h), ts, tcp, d->tcp_flags);
		if (why != SSMF_END_COUNT) {
			if ((rc = end_flow(t, h, why)))
				return rc;
			h = 0;
		}
	}
	if (!h) {
		if ((rc = enforce_cap(t, 0)))
			return rc;
		/* The initiator sends the first packet, unless that packet is a
		 * SYN-ACK: then the capture missed the SYN, whose sender is the
		 * receiver of this one. */
		int src_initiates = !(tcp && (d->tcp_flags & (SSMF_TCP_SYN | SSMF_TCP_ACK)) ==
		                                 (SSMF_TCP_SYN | SSMF_TCP_ACK));
		int initiator_is_lo = src_initiates ? src_is_lo : !src_is_lo;
		if (!t->nbuckets && grow_buckets(t) != 0)
			return -1;
		h = new_flow(t, &k, hash, initiator_is_lo, d, ts);
		if (!h)
			return -1;
	}
	struct flow *f = F(t, h);
	int dir = (src_is_lo == f->initiator_is_lo) ? 0 : 1;
	/* most recent: the last to be evicted (already so if it took the last packet) */
	if (!f->on_closing_list && t->active.tail != h) {
		list_remove(t, &t->active, h);
		list_append(t, &t->active, h);
	}

	if (f->nrec == t->p.max_packets && t->chunk_sink) {
		if ((rc = t->chunk_sink(t->user, f->flow_id, f->recs, f->nrec)))
			return rc;
		f->nrec = 0;
	}
	struct ssmf_record spare;
	uint32_t cap_before = f->rec_cap;
	struct ssmf_record *r = record_slot(t, f, &spare);
	if (!r)
		return -1;
	build_record(f, d, ts, tcp, dir, caplen < wire_len, r);
	if (rec_out)
		*rec_out = *r;
	uint8_t rec_tcp_flags = r->tcp_flags;
	if (f->rec_cap != cap_before && (rc = enforce_cap(t, h)))
		return rc;
	f = F(t, h); /* enforce_cap never ends flow h */

	count_packet(f, dir, d, ts, wire_len, rec_tcp_flags);
	track_close(t, h, tcp, dir, d->tcp_flags, ts);
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
	t->cid = ssmf_community_id_new(p->community_id_seed);
	if (!t->frags || !t->cid || grow_buckets(t) != 0) {
		ssmf_flowtable_free(t);
		return NULL;
	}
	return t;
}

void ssmf_flowtable_set_chunk_sink(struct ssmf_flowtable *t, ssmf_flow_chunk_sink chunk)
{
	t->chunk_sink = chunk;
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
	free(t->links);
	free(t->buckets);
	ssmf_fragcache_free(t->frags);
	ssmf_community_id_free(t->cid);
	free(t);
}
