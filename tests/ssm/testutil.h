/* testutil.h - small helpers shared by the ssm tests. */
#ifndef SSMF_TESTUTIL_H
#define SSMF_TESTUTIL_H

#include <stdint.h>
#include <string.h>

#include "ssm/ssm.h"

static uint64_t tu_rng = 88172645463325252ull;

static inline uint32_t tu_u32(void)
{
	tu_rng ^= tu_rng << 13;
	tu_rng ^= tu_rng >> 7;
	tu_rng ^= tu_rng << 17;
	return (uint32_t)(tu_rng >> 32);
}

static inline double tu_unif(void)
{
	return (tu_u32() + 0.5) / 4294967296.0;
}

/* A synthetic but plausible flow: TCP or UDP, sizes, gaps over many scales, flags. */
static inline void tu_random_flow(struct ssmf_record *r, int len, uint32_t flow_id)
{
	int tcp = tu_u32() % 3 != 0;
	uint64_t ts = 1700000000000000000ull + (tu_u32() % 1000) * 1000000ull;
	for (int t = 0; t < len; t++) {
		memset(&r[t], 0, sizeof r[t]);
		uint32_t gap = 0;
		if (t > 0) {
			double e = tu_unif() * 8.0;
			gap = (uint32_t)(e < 0.3 ? 0 : __builtin_exp(e * 2.3));
		}
		ts += (uint64_t)gap * 1000u;
		r[t].ts_ns = ts;
		r[t].flow_id = flow_id;
		r[t].gap_us = gap;
		r[t].ip_len = (uint16_t)(40 + tu_u32() % 1461);
		r[t].payload_len = (uint16_t)(r[t].ip_len > 52 ? r[t].ip_len - 52 : 0);
		r[t].direction = (uint8_t)(tu_u32() & 1);
		r[t].pkt_index = (uint16_t)t;
		r[t].ttl = (uint8_t)(tu_u32() % 2 ? 64 : 128);
		r[t].ip_proto = tcp ? 6 : 17;
		if (tcp) {
			r[t].tcp_flags = (uint8_t)(tu_u32() & 0x1f);
			r[t].tcp_window = (uint16_t)tu_u32();
		}
		if (tu_u32() % 17 == 0)
			r[t].flags = SSMF_REC_IPV6;
	}
}

#endif
