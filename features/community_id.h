/* community_id.h - Community ID v1 (github.com/corelight/community-id-spec): the flow
 * identifier Zeek, Suricata, Elastic and Arkime share, so a SOC can join their records
 * with ours. Documented in ssmflow-formats(5). */
#ifndef SSMF_COMMUNITY_ID_H
#define SSMF_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

/* "1:" + 28 base64 characters + NUL, rounded up to keep summary rows aligned. */
#define SSMF_COMMUNITY_ID_SIZE 32

/* A flow's tuple as it was first seen: src sent the first packet. For ICMP (1) and
 * ICMPv6 (58) sport and dport are that packet's type and code; for protocols without
 * ports (anything but TCP, UDP, SCTP and the ICMPs) they are ignored. */
struct ssmf_cid_tuple {
	const uint8_t *src, *dst; /* 4 bytes (ip_version 4) or 16 (6) */
	uint8_t ip_version;
	uint8_t proto;
	uint16_t sport, dport;
};

struct ssmf_community_id;

/* A seed and a reusable SHA-1 context (OpenSSL's digest fetched once: a one-shot digest
 * costs ~10x more, which a flow table ending 1M flows/s would feel). Not shared between
 * threads. NULL when out of memory. */
struct ssmf_community_id *ssmf_community_id_new(uint16_t seed);
void ssmf_community_id_free(struct ssmf_community_id *h);

/* Writes the NUL-terminated ID to out (SSMF_COMMUNITY_ID_SIZE bytes). Returns 0, or -1
 * (and an empty string) when the tuple is not IPv4 or IPv6 or the digest failed. */
int ssmf_community_id(struct ssmf_community_id *h, const struct ssmf_cid_tuple *t,
                      char out[SSMF_COMMUNITY_ID_SIZE]);

#endif
