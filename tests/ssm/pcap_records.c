/* pcap_records.c - see pcap_records.h. Bounds-checked at every read. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_records.h"

struct key {
	uint8_t a[16], b[16]; /* canonical: a <= b (with ports) */
	uint16_t pa, pb;
	uint8_t proto, v6;
};

struct flow {
	struct key k;
	uint8_t init[16];
	uint16_t init_port;
	uint64_t last_ns;
	uint32_t n;
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

long pcap_records_read(const char *path, struct ssmf_record **out, int *n_flows, char *err,
                       size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, perr);
	if (!pc) {
		snprintf(err, errlen, "%s: %s", path, perr);
		return -1;
	}
	int dlt = pcap_datalink(pc);
	size_t cap = 1024, n = 0, fcap = 256, nf = 0;
	struct ssmf_record *rec = malloc(cap * sizeof *rec);
	struct flow *fl = malloc(fcap * sizeof *fl);
	struct pcap_pkthdr *h;
	const uint8_t *p;
	int rc;
	while ((rc = pcap_next_ex(pc, &h, &p)) == 1) {
		size_t len = h->caplen, off = 0;
		if (dlt == DLT_EN10MB) {
			if (len < 14)
				continue;
			uint16_t et = be16(p + 12);
			off = 14;
			while ((et == 0x8100 || et == 0x88a8) && off + 4 <= len) {
				et = be16(p + off + 2);
				off += 4;
			}
			if (et != 0x0800 && et != 0x86dd)
				continue;
		} else if (dlt == DLT_LINUX_SLL) {
			if (len < 16)
				continue;
			off = 16;
		} else if (dlt != DLT_RAW) {
			continue;
		}
		if (off >= len)
			continue;
		const uint8_t *ip = p + off;
		size_t il = len - off;
		struct key k;
		memset(&k, 0, sizeof k);
		uint8_t src[16] = {0}, dst[16] = {0}, ttl, proto;
		size_t l4;
		uint32_t ip_len;
		int v6 = (ip[0] >> 4) == 6;
		if ((ip[0] >> 4) == 4) {
			size_t ihl = (size_t)(ip[0] & 15) * 4;
			if (il < 20 || ihl < 20 || ihl > il)
				continue;
			if (be16(ip + 6) & 0x1fff)
				continue; /* non-first fragment */
			ip_len = be16(ip + 2);
			ttl = ip[8];
			proto = ip[9];
			memcpy(src, ip + 12, 4);
			memcpy(dst, ip + 16, 4);
			l4 = ihl;
		} else if (v6) {
			if (il < 40)
				continue;
			ip_len = be16(ip + 4) + 40u;
			ttl = ip[7];
			proto = ip[6];
			memcpy(src, ip + 8, 16);
			memcpy(dst, ip + 24, 16);
			l4 = 40;
		} else {
			continue;
		}
		if (proto != 6 && proto != 17)
			continue;
		if (l4 + (proto == 6 ? 20u : 8u) > il)
			continue;
		const uint8_t *t = ip + l4;
		uint16_t sp = be16(t), dp = be16(t + 2);
		size_t hdr = proto == 6 ? (size_t)(t[12] >> 4) * 4 : 8;
		int cmp = memcmp(src, dst, 16);
		int fwd = cmp < 0 || (cmp == 0 && sp <= dp);
		memcpy(k.a, fwd ? src : dst, 16);
		memcpy(k.b, fwd ? dst : src, 16);
		k.pa = fwd ? sp : dp;
		k.pb = fwd ? dp : sp;
		k.proto = proto;
		k.v6 = (uint8_t)v6;
		size_t f;
		for (f = 0; f < nf; f++)
			if (!memcmp(&fl[f].k, &k, sizeof k))
				break;
		uint64_t ts =
		    (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * 1000ull;
		if (f == nf) {
			if (nf == fcap)
				fl = realloc(fl, (fcap *= 2) * sizeof *fl);
			fl[f].k = k;
			memcpy(fl[f].init, src, 16);
			fl[f].init_port = sp;
			fl[f].last_ns = ts;
			fl[f].n = 0;
			nf++;
		}
		if (n == cap)
			rec = realloc(rec, (cap *= 2) * sizeof *rec);
		struct ssmf_record *r = &rec[n++];
		memset(r, 0, sizeof *r);
		uint64_t gap = ts > fl[f].last_ns ? (ts - fl[f].last_ns) / 1000u : 0;
		r->ts_ns = ts;
		r->flow_id = (uint32_t)f;
		r->gap_us = gap > UINT32_MAX ? UINT32_MAX : (uint32_t)gap;
		r->ip_len = ip_len > 65535 ? 65535 : (uint16_t)ip_len;
		r->payload_len = ip_len > l4 + hdr ? (uint16_t)(ip_len - l4 - hdr) : 0;
		if (proto == 6) {
			r->tcp_flags = t[13];
			r->tcp_window = be16(t + 14);
		}
		r->pkt_index = fl[f].n > 65535 ? 65535 : (uint16_t)fl[f].n;
		r->ttl = ttl;
		r->ip_proto = proto;
		r->direction = !(memcmp(src, fl[f].init, 16) == 0 && sp == fl[f].init_port);
		r->flags = v6 ? SSMF_REC_IPV6 : 0;
		if (h->caplen < h->len)
			r->flags |= SSMF_REC_TRUNCATED;
		if (ts < fl[f].last_ns)
			r->flags |= SSMF_REC_OUT_OF_ORDER;
		else
			fl[f].last_ns = ts;
		fl[f].n++;
	}
	pcap_close(pc);
	free(fl);
	*out = rec;
	*n_flows = (int)nf;
	return (long)n;
}
