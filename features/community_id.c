#include "features/community_id.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct ssmf_community_id {
	uint16_t seed;
	EVP_MD *sha1;
	EVP_MD_CTX *ctx;
};

struct ssmf_community_id *ssmf_community_id_new(uint16_t seed)
{
	struct ssmf_community_id *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->seed = seed;
	h->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	h->ctx = EVP_MD_CTX_new();
	if (!h->sha1 || !h->ctx) {
		ssmf_community_id_free(h);
		return NULL;
	}
	return h;
}

void ssmf_community_id_free(struct ssmf_community_id *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->sha1);
	free(h);
}

/* The spec's ICMP "ports" (as Zeek maps them): a message with a counterpart (a request
 * and its reply) is two-way, its destination port the counterpart's type; any other
 * message is one-way, its destination port its code, and its tuple is never reordered. */
struct icmp_pair {
	uint8_t type, counterpart;
};

static const struct icmp_pair icmp4_pairs[] = {
    {8, 0},   {0, 8},   /* echo request, reply */
    {13, 14}, {14, 13}, /* timestamp request, reply */
    {15, 16}, {16, 15}, /* information request, reply */
    {10, 9},  {9, 10},  /* router solicitation, advertisement */
    {17, 18}, {18, 17}, /* address mask request, reply */
};

static const struct icmp_pair icmp6_pairs[] = {
    {128, 129}, {129, 128}, /* echo request, reply */
    {130, 131}, {131, 130}, /* multicast listener query, report */
    {133, 134}, {134, 133}, /* router solicitation, advertisement */
    {135, 136}, {136, 135}, /* neighbor solicitation, advertisement */
    {139, 140}, {140, 139}, /* node information query, reply */
    {144, 145}, {145, 144}, /* home agent address discovery request, reply */
};

/* Maps type/code to the (sport, dport) the spec hashes; returns 1 for a one-way message. */
static int icmp_ports(const struct icmp_pair *pairs, size_t n, uint16_t type, uint16_t code,
                      uint16_t *sport, uint16_t *dport)
{
	*sport = type;
	for (size_t i = 0; i < n; i++)
		if (pairs[i].type == type) {
			*dport = pairs[i].counterpart;
			return 0;
		}
	*dport = code;
	return 1;
}

static int has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int ssmf_community_id(struct ssmf_community_id *h, const struct ssmf_cid_tuple *t,
                      char out[SSMF_COMMUNITY_ID_SIZE])
{
	out[0] = '\0';
	if (t->ip_version != 4 && t->ip_version != 6)
		return -1;
	const size_t alen = t->ip_version == 4 ? 4 : 16;
	uint16_t sport = t->sport, dport = t->dport;
	int one_way = 0;
	if (t->proto == 1)
		one_way = icmp_ports(icmp4_pairs, sizeof icmp4_pairs / sizeof *icmp4_pairs, sport,
		                     dport, &sport, &dport);
	else if (t->proto == 58)
		one_way = icmp_ports(icmp6_pairs, sizeof icmp6_pairs / sizeof *icmp6_pairs, sport,
		                     dport, &sport, &dport);

	/* The smaller endpoint (address, then port, in network byte order) goes first. */
	const int c = memcmp(t->src, t->dst, alen);
	const int ordered = one_way || c < 0 || (c == 0 && sport < dport);
	const uint8_t *a = ordered ? t->src : t->dst, *b = ordered ? t->dst : t->src;
	const uint16_t pa = ordered ? sport : dport, pb = ordered ? dport : sport;

	/* seed(2) addr addr proto(1) pad(1) [port(2) port(2)] */
	uint8_t buf[2 + 16 + 16 + 2 + 4];
	size_t n = 0;
	put_be16(buf, h->seed);
	n += 2;
	memcpy(buf + n, a, alen);
	n += alen;
	memcpy(buf + n, b, alen);
	n += alen;
	buf[n++] = t->proto;
	buf[n++] = 0;
	if (has_ports(t->proto)) {
		put_be16(buf + n, pa);
		put_be16(buf + n + 2, pb);
		n += 4;
	}
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	if (!EVP_DigestInit_ex2(h->ctx, h->sha1, NULL) || !EVP_DigestUpdate(h->ctx, buf, n) ||
	    !EVP_DigestFinal_ex(h->ctx, digest, &dlen) || dlen != 20)
		return -1;
	memcpy(out, "1:", 2);
	/* 20 bytes give 28 base64 characters and the NUL */
	EVP_EncodeBlock((unsigned char *)out + 2, digest, (int)dlen);
	return 0;
}
