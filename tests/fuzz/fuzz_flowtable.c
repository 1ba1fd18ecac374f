/* fuzz_flowtable.c - the flow table: a sequence of packets under a small
 * memory cap, with short timeouts and TCP close, checked against invariants.
 *
 * Input (structure-aware, so mutations reach the table rather than the decoder):
 *   byte 0: max packets per flow (1..16), byte 1: memory cap (2 KiB + 512 B steps),
 *   byte 2: bit 0 TCP close, bit 1 idle timeout off, bit 2 active timeout off;
 *   then 8 bytes per packet: time step, src, dst, ports, protocol, TCP flags,
 *   fragment bits, VLAN/IP version (see packet_of below).
 * Invariants: every packet given is counted in exactly one ended flow; each flow
 * stores min(packets, max) records, in its own id, with sequential indices; the
 * table's memory stays within its cap (plus one flow, which is never evicted
 * while it takes a packet); every started flow ends.
 */
#include <string.h>

#include "features/flowtable.h"
#include "tests/fuzz/fuzz.h"

#define SEC 1000000000ull

struct check {
	uint32_t max_packets;
	uint64_t packets_in_flows;
	uint64_t flows_ended;
};

static int sink(void *user, const struct ssmf_flow_summary *s, const struct ssmf_record *recs)
{
	struct check *c = user;
	uint64_t n = s->fwd_packets + s->bwd_packets;
	FUZZ_CHECK(n >= 1);
	FUZZ_CHECK(s->packet_count == (n < c->max_packets ? n : c->max_packets));
	FUZZ_CHECK(s->end_reason < SSMF_END_COUNT);
	FUZZ_CHECK(s->duration_ns == s->last_ts_ns - s->first_ts_ns);
	FUZZ_CHECK(s->last_ts_ns >= s->first_ts_ns);
	for (uint32_t i = 0; i < s->packet_count; i++) {
		FUZZ_CHECK(recs[i].flow_id == s->flow_id);
		FUZZ_CHECK(recs[i].pkt_index == i);
		FUZZ_CHECK(recs[i].direction <= 1);
	}
	FUZZ_CHECK(s->fwd_size_std == s->fwd_size_std); /* never NaN */
	FUZZ_CHECK(s->bwd_iat_std_ns == s->bwd_iat_std_ns);
	c->packets_in_flows += n;
	c->flows_ended++;
	return 0;
}

/* One packet from 8 bytes: few addresses and ports so flows meet again. */
static uint64_t packet_of(const uint8_t *b, uint64_t ts, struct ssmf_decoded *d)
{
	static const uint8_t protos[] = {6, 6, 6, 17, 17, 1, 58, 47};
	static const uint16_t ports[] = {80, 443, 53, 1234, 40000, 40001, 0, 65535};
	memset(d, 0, sizeof *d);
	/* time: mostly small steps, sometimes past a timeout, sometimes backwards */
	uint8_t t = b[0];
	if (t < 160)
		ts += (uint64_t)t * 10000000ull; /* up to 1.6 s */
	else if (t < 224)
		ts += (uint64_t)(t - 159) * 4 * SEC; /* up to 256 s: idle and active timeouts */
	else if (ts > (uint64_t)(t - 223) * SEC)
		ts -= (uint64_t)(t - 223) * SEC; /* out of order */
	d->ip_version = (b[7] & 0x80) ? 6 : 4;
	d->src[0] = 10;
	d->src[3] = b[1] & 7;
	d->dst[0] = 10;
	d->dst[3] = (b[1] >> 3) & 7;
	d->proto = protos[b[2] & 7];
	d->has_ports = d->proto == 6 || d->proto == 17;
	if (d->has_ports) {
		d->sport = ports[(b[2] >> 3) & 7];
		d->dport = ports[(b[3]) & 7];
	}
	d->tcp_flags = d->proto == 6 ? b[4] : 0;
	d->ttl = 64;
	d->ip_len = 40u + (b[3] >> 3) * 48u;
	d->payload_len = d->ip_len - 40;
	d->is_fragment = (b[5] & 1) != 0;
	d->first_fragment = d->is_fragment && (b[5] & 2);
	d->frag_id = b[5] >> 2;
	if (d->is_fragment && !d->first_fragment)
		d->has_ports = 0, d->sport = d->dport = 0;
	d->vlan = b[6] & 3;
	d->tunnel_key = d->tunnel_id = (b[7] & 0x40) ? 7 : 0;
	return ts;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	struct ssmf_flow_params p;
	ssmf_flow_params_default(&p);
	p.max_packets = 1 + (data[0] & 15);
	p.memory_cap_bytes = 2048 + (uint64_t)data[1] * 512;
	p.tcp_close = data[2] & 1;
	p.idle_timeout_ns = (data[2] & 2) ? 0 : 30 * SEC;
	p.active_timeout_ns = (data[2] & 4) ? 0 : 100 * SEC;
	p.tcp_close_grace_ns = 1 * SEC;
	struct check c = {.max_packets = p.max_packets};
	struct ssmf_flowtable *t = ssmf_flowtable_new(&p, sink, &c);
	if (!t)
		return 0;
	uint64_t ts = 1700000000ull * SEC, added = 0;
	/* Bound on the table's memory: the cap, plus the flow taking a packet. */
	const uint64_t one_flow = 1024 + (uint64_t)p.max_packets * sizeof(struct ssmf_record);
	for (size_t off = 3; off + 8 <= size; off += 8) {
		struct ssmf_decoded d;
		ts = packet_of(data + off, ts, &d);
		struct ssmf_record r;
		FUZZ_CHECK(ssmf_flowtable_add(t, &d, ts, d.ip_len + 14, d.ip_len + 14, &r) == 0);
		added++;
		FUZZ_CHECK(r.ts_ns == ts && r.direction <= 1);
		const struct ssmf_flow_counters *fc = ssmf_flowtable_counters(t);
		FUZZ_CHECK(fc->peak_memory_bytes <= p.memory_cap_bytes + one_flow);
	}
	FUZZ_CHECK(ssmf_flowtable_flush(t) == 0);
	const struct ssmf_flow_counters *fc = ssmf_flowtable_counters(t);
	uint64_t ended = 0;
	for (int i = 0; i < SSMF_END_COUNT; i++)
		ended += fc->ended[i];
	FUZZ_CHECK(fc->packets == added);
	FUZZ_CHECK(c.packets_in_flows == added);
	FUZZ_CHECK(ended == fc->flows && c.flows_ended == fc->flows);
	ssmf_flowtable_free(t);
	return 0;
}
