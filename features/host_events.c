/* host_events.c - per-host flow events with bounded integer state (host_events.h). */
#include <stdlib.h>
#include <string.h>

#include "features/host_events.h"

/* Sketch slots per host: a peer, port or peer+port pair is "recent" while its slot has not
 * been taken by another since. 16 slots keep a host's state at 368 bytes. */
#define SKETCH 16
/* peer+service times are kept in units of 2^20 ns (about 1.05 ms) in 32 bits. */
#define SVC_SHIFT 20

struct host {
	uint8_t addr[16];
	uint8_t ip_version;
	uint8_t pad[3];
	uint32_t domain;
	uint32_t events;
	uint64_t last_ts_ns;
	uint32_t peer_tag[SKETCH];   /* hash of a recent peer, 0 = empty */
	uint16_t port[SKETCH];       /* recent service port + 1, 0 = empty */
	uint32_t svc_tag[SKETCH];    /* hash of a recent (peer, port), 0 = empty */
	uint32_t svc_time[SKETCH];   /* its last event, ts_ns >> SVC_SHIFT */
	uint32_t svc_rate[SKETCH];   /* its decayed event count (rate_service) */
	uint16_t svc_return[SKETCH]; /* its decayed count of returns (rate_returns) */
	uint32_t rate_events; /* decayed counts at last_ts_ns (rate_events, rate_new_peers) */
	uint32_t rate_new;
};

struct ssmf_host_table {
	struct host *hosts;
	size_t n, cap;
	uint32_t *index; /* open addressing: host number + 1, 0 = empty */
	size_t index_cap;
};

static uint64_t hash_bytes(const uint8_t *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t addr_hash(const uint8_t *addr, uint8_t ipv)
{
	return hash_bytes(addr, ipv == 4 ? 4 : 16, 0xcbf29ce484222325ull ^ ipv);
}

static uint64_t host_hash(const uint8_t *addr, uint8_t ipv, uint32_t domain)
{
	return addr_hash(addr, ipv) ^ ((uint64_t)domain * 0x9e3779b97f4a7c15ull);
}

/* A nonzero 32-bit tag. */
static uint32_t tag_of(uint64_t h)
{
	uint32_t t = (uint32_t)(h ^ (h >> 32));
	return t ? t : 1;
}

struct ssmf_host_table *ssmf_host_table_new(void)
{
	return calloc(1, sizeof(struct ssmf_host_table));
}

void ssmf_host_table_free(struct ssmf_host_table *t)
{
	if (!t)
		return;
	free(t->hosts);
	free(t->index);
	free(t);
}

size_t ssmf_host_table_count(const struct ssmf_host_table *t)
{
	return t->n;
}

const uint8_t *ssmf_host_table_addr(const struct ssmf_host_table *t, uint32_t id,
                                    uint8_t *ip_version, uint32_t *domain)
{
	if (id >= t->n)
		return NULL;
	if (ip_version)
		*ip_version = t->hosts[id].ip_version;
	if (domain)
		*domain = t->hosts[id].domain;
	return t->hosts[id].addr;
}

static int same_host(const struct host *h, const uint8_t *addr, uint8_t ipv, uint32_t domain)
{
	return h->ip_version == ipv && h->domain == domain &&
	       memcmp(h->addr, addr, ipv == 4 ? 4 : 16) == 0;
}

static int rehash(struct ssmf_host_table *t, size_t cap)
{
	uint32_t *ix = calloc(cap, sizeof *ix);
	if (!ix)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		const struct host *h = &t->hosts[i];
		size_t j = (size_t)host_hash(h->addr, h->ip_version, h->domain) & (cap - 1);
		while (ix[j])
			j = (j + 1) & (cap - 1);
		ix[j] = (uint32_t)i + 1;
	}
	free(t->index);
	t->index = ix;
	t->index_cap = cap;
	return 0;
}

/* The host's number, adding it when new; -1 when out of memory. */
static long host_of(struct ssmf_host_table *t, const uint8_t *addr, uint8_t ipv, uint32_t domain)
{
	if ((t->n + 1) * 2 > t->index_cap && rehash(t, t->index_cap ? t->index_cap * 2 : 1024) < 0)
		return -1;
	size_t j = (size_t)host_hash(addr, ipv, domain) & (t->index_cap - 1);
	for (; t->index[j]; j = (j + 1) & (t->index_cap - 1))
		if (same_host(&t->hosts[t->index[j] - 1], addr, ipv, domain))
			return (long)t->index[j] - 1;
	if (t->n == UINT32_MAX - 1)
		return -1;
	if (t->n == t->cap) {
		size_t c = t->cap ? t->cap * 2 : 1024;
		struct host *h = realloc(t->hosts, c * sizeof *h);
		if (!h)
			return -1;
		t->hosts = h;
		t->cap = c;
	}
	struct host *h = &t->hosts[t->n];
	memset(h, 0, sizeof *h);
	memcpy(h->addr, addr, ipv == 4 ? 4 : 16);
	h->ip_version = ipv;
	h->domain = domain;
	t->index[j] = (uint32_t)t->n + 1;
	return (long)t->n++;
}

/* 2^(-k/16) in 1/65536 units: the fractional part of a decay. */
static const uint32_t half_frac[16] = {65536, 62757, 60097, 57549, 55109, 52773, 50535, 48393,
                                       46341, 44376, 42495, 40693, 38968, 37316, 35734, 34219};

/* v after dt_us, halving every half_us: whole half-lives by shifts, the rest (in 16ths of a
 * half-life) by one multiply. Integer only, as an eBPF program can run it. */
static uint32_t rate_decay(uint32_t v, uint64_t dt_us, uint32_t half_us)
{
	uint64_t halves = dt_us / half_us;
	if (halves >= 32)
		return 0;
	uint64_t k = (dt_us % half_us) * 16 / half_us;
	return (uint32_t)(((uint64_t)(v >> halves) * half_frac[k]) >> 16);
}

static uint32_t rate_add(uint32_t v, uint32_t add)
{
	return v > UINT32_MAX - add ? UINT32_MAX : v + add;
}

static uint16_t rate_field(uint32_t v)
{
	return v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
}

static uint32_t sat_us(uint64_t ns, uint32_t max)
{
	uint64_t us = ns / 1000;
	return us > max ? max : (uint32_t)us;
}

/* Fills the state-derived fields of h's event and updates h. */
static void observe(struct host *h, uint64_t ts, const uint8_t *peer, uint8_t ipv, uint16_t port,
                    struct ssmf_host_event *e)
{
	uint64_t ph = addr_hash(peer, ipv);
	uint32_t ptag = tag_of(ph);
	uint32_t stag = tag_of(ph * 0x9e3779b97f4a7c15ull ^ port);
	size_t pi = ptag % SKETCH, oi = (size_t)(port * 40503u >> 12) % SKETCH, si = stag % SKETCH;
	uint32_t now = (uint32_t)(ts >> SVC_SHIFT);

	e->gap_us = h->events && ts > h->last_ts_ns ? sat_us(ts - h->last_ts_ns, UINT32_MAX) : 0;
	uint64_t dt_us = h->events && ts > h->last_ts_ns ? (ts - h->last_ts_ns) / 1000 : 0;
	e->novelty = 0;
	if (h->peer_tag[pi] != ptag)
		e->novelty |= SSMF_NOVEL_PEER;
	if (h->port[oi] != (uint16_t)(port + 1u) || port == UINT16_MAX)
		e->novelty |= SSMF_NOVEL_PORT;
	if (h->svc_tag[si] != stag) {
		e->novelty |= SSMF_NOVEL_SERVICE;
		e->peer_gap_us = SSMF_PEER_GAP_NONE;
		h->svc_rate[si] = SSMF_RATE_ONE;
		h->svc_return[si] = 0;
	} else {
		uint64_t d = (uint64_t)(uint32_t)(now - h->svc_time[si]) << SVC_SHIFT;
		e->peer_gap_us = sat_us(d, SSMF_PEER_GAP_NONE - 1);
		h->svc_rate[si] = rate_add(
		    rate_decay(h->svc_rate[si], d / 1000, SSMF_RATE_SVC_HALF_US), SSMF_RATE_ONE);
		uint32_t back = d / 1000 >= SSMF_RETURN_IDLE_US ? SSMF_RATE_ONE : 0;
		h->svc_return[si] = rate_field(rate_add(
		    rate_decay(h->svc_return[si], d / 1000, SSMF_RATE_RETURN_HALF_US), back));
	}
	h->rate_events =
	    rate_add(rate_decay(h->rate_events, dt_us, SSMF_RATE_HOST_HALF_US), SSMF_RATE_ONE);
	h->rate_new = rate_add(rate_decay(h->rate_new, dt_us, SSMF_RATE_HOST_HALF_US),
	                       e->novelty & SSMF_NOVEL_PEER ? SSMF_RATE_ONE : 0);
	e->rate_events = rate_field(h->rate_events);
	e->rate_service = rate_field(h->svc_rate[si]);
	e->rate_new_peers = rate_field(h->rate_new);
	e->rate_returns = h->svc_return[si];
	h->peer_tag[pi] = ptag;
	h->port[oi] = (uint16_t)(port + 1u);
	h->svc_tag[si] = stag;
	h->svc_time[si] = now;
	if (!h->events || ts > h->last_ts_ns)
		h->last_ts_ns = ts;
	if (h->events < UINT32_MAX)
		h->events++;
}

int ssmf_host_table_flow(struct ssmf_host_table *t, const struct ssmf_host_flow *f,
                         struct ssmf_host_event ev[2])
{
	if (f->ip_version != 4 && f->ip_version != 6)
		return 0;
	long a = host_of(t, f->src_addr, f->ip_version, f->domain);
	long b = a < 0 ? -1 : host_of(t, f->dst_addr, f->ip_version, f->domain);
	if (a < 0 || b < 0)
		return -1;
	const struct ssmf_record *r = f->first;
	for (int k = 0; k < 2; k++) {
		struct ssmf_host_event *e = &ev[k];
		memset(e, 0, sizeof *e);
		e->ts_ns = r->ts_ns;
		e->host_id = (uint32_t)(k ? b : a);
		e->ip_len = r->ip_len;
		e->payload_len = r->payload_len;
		e->service_port = f->dst_port;
		e->tcp_flags = r->tcp_flags;
		e->ttl = r->ttl;
		e->ip_proto = r->ip_proto;
		e->role = k ? SSMF_ROLE_RESPONDER : SSMF_ROLE_INITIATOR;
		e->rec_flags = r->flags;
	}
	/* a flow from a host to itself is one host seeing both roles, in that order */
	observe(&t->hosts[a], r->ts_ns, f->dst_addr, f->ip_version, f->dst_port, &ev[0]);
	observe(&t->hosts[b], r->ts_ns, f->src_addr, f->ip_version, f->dst_port, &ev[1]);
	return 2;
}

/* ---- every host's sequence ---- */

static int starts_before(const struct ssmf_host_flow *f, size_t a, size_t b)
{
	uint64_t x = f[a].first->ts_ns, y = f[b].first->ts_ns;
	if (x != y)
		return x < y;
	if (f[a].flow_id != f[b].flow_id)
		return f[a].flow_id < f[b].flow_id;
	return a < b;
}

/* Merge sort of indices (stable, no qsort context in C11). */
static void sort_flows(size_t *v, size_t *tmp, size_t n, const struct ssmf_host_flow *f)
{
	if (n < 2)
		return;
	size_t h = n / 2, i = 0, j = h, k = 0;
	sort_flows(v, tmp, h, f);
	sort_flows(v + h, tmp, n - h, f);
	while (i < h && j < n)
		tmp[k++] = starts_before(f, v[j], v[i]) ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

int ssmf_host_sequences_build(struct ssmf_host_sequences *s, const struct ssmf_host_flow *f,
                              size_t n)
{
	memset(s, 0, sizeof *s);
	size_t m = n ? n : 1;
	size_t *ord = malloc(m * sizeof *ord), *tmp = malloc(m * sizeof *tmp), *cur = NULL;
	struct ssmf_host_event *all = malloc(2 * m * sizeof *all);
	uint32_t *flow_of = malloc(2 * m * sizeof *flow_of);
	int rc = -1;
	if (!ord || !tmp || !all || !flow_of || !(s->table = ssmf_host_table_new()))
		goto out;
	for (size_t i = 0; i < n; i++)
		ord[i] = i;
	sort_flows(ord, tmp, n, f);
	size_t ne = 0;
	for (size_t k = 0; k < n; k++) {
		int got = ssmf_host_table_flow(s->table, &f[ord[k]], all + ne);
		if (got < 0)
			goto out;
		for (int e = 0; e < got; e++)
			flow_of[ne + (size_t)e] = (uint32_t)ord[k];
		ne += (size_t)got;
	}
	s->n_hosts = ssmf_host_table_count(s->table);
	s->start = calloc(s->n_hosts + 1, sizeof *s->start);
	s->ev = malloc((ne ? ne : 1) * sizeof *s->ev);
	s->flow = malloc((ne ? ne : 1) * sizeof *s->flow);
	cur = malloc((s->n_hosts ? s->n_hosts : 1) * sizeof *cur);
	if (!s->start || !s->ev || !s->flow || !cur)
		goto out;
	for (size_t e = 0; e < ne; e++)
		s->start[all[e].host_id + 1]++;
	for (size_t h = 0; h < s->n_hosts; h++)
		s->start[h + 1] += s->start[h];
	memcpy(cur, s->start, s->n_hosts * sizeof *cur);
	for (size_t e = 0; e < ne; e++) { /* stable: each host's events stay in time order */
		size_t at = cur[all[e].host_id]++;
		s->ev[at] = all[e];
		s->flow[at] = flow_of[e];
	}
	rc = 0;
out:
	free(ord);
	free(tmp);
	free(all);
	free(flow_of);
	free(cur);
	if (rc)
		ssmf_host_sequences_free(s);
	return rc;
}

void ssmf_host_sequences_free(struct ssmf_host_sequences *s)
{
	ssmf_host_table_free(s->table);
	free(s->start);
	free(s->ev);
	free(s->flow);
	memset(s, 0, sizeof *s);
}

/* ---- lowering ---- */

void ssmf_host_lower_start(uint32_t host_id, uint64_t ts_ns, struct ssmf_record *row)
{
	memset(row, 0, sizeof *row);
	row->ts_ns = ts_ns;
	row->flow_id = host_id;
}

void ssmf_host_lower_event(const struct ssmf_host_event *e, uint32_t pos, struct ssmf_record *row)
{
	memset(row, 0, sizeof *row);
	row->ts_ns = e->ts_ns;
	row->flow_id = e->host_id;
	row->gap_us = e->gap_us;
	row->ip_len = e->ip_len;
	row->payload_len = e->service_port;
	/* the time since the same peer and service, in ms (65535: none remembered) */
	uint32_t pg = e->peer_gap_us / 1000u;
	row->tcp_window =
	    e->peer_gap_us == SSMF_PEER_GAP_NONE ? 65535u : (uint16_t)(pg > 65534u ? 65534u : pg);
	row->pkt_index = (uint16_t)(pos > SSMF_PKT_INDEX_MAX ? SSMF_PKT_INDEX_MAX : pos);
	row->tcp_flags = e->tcp_flags;
	row->ttl = e->ttl;
	row->ip_proto = e->ip_proto;
	row->direction = e->role;
	row->flags = (uint8_t)(e->rec_flags & (SSMF_REC_IPV6 | SSMF_REC_TUNNEL));
	if (e->novelty & SSMF_NOVEL_PORT)
		row->flags |= SSMF_REC_FRAGMENT;
	if (e->novelty & SSMF_NOVEL_PEER)
		row->flags |= SSMF_REC_TRUNCATED;
	if (e->novelty & SSMF_NOVEL_SERVICE)
		row->flags |= SSMF_REC_OUT_OF_ORDER;
}
