/* Community ID against published values: the spec's README example
 * (corelight/community-id-spec, also c-community-id's README) and the vectors of
 * OpenSearch's CommunityIdProcessorTests (an independent Java implementation). */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "features/community_id.h"

struct vector {
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport; /* ICMP: type, code */
	uint16_t seed;
	const char *want;
};

static const struct vector vectors[] = {
    {"128.232.110.120", "66.35.250.204", 6, 34855, 80, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {"66.35.250.204", "128.232.110.120", 6, 80, 34855, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {"8.8.8.8", "192.168.1.52", 17, 53, 54585, 0, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {"192.168.170.8", "192.168.170.56", 132, 7, 7, 0, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {"192.168.0.89", "192.168.0.1", 1, 8, 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {"fe80::260:97ff:fe07:69ea", "ff02::1", 58, 134, 0, 0, "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
    {"2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 6, 63943, 25, 0,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
};

static int run_vector(const struct vector *v, char out[SSMF_COMMUNITY_ID_SIZE])
{
	uint8_t a[16] = {0}, b[16] = {0};
	int v6 = strchr(v->src, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, v->src, a) != 1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, v->dst, b) != 1)
		return -1;
	struct ssmf_cid_tuple t = {.src = a,
	                           .dst = b,
	                           .ip_version = v6 ? 6 : 4,
	                           .proto = v->proto,
	                           .sport = v->sport,
	                           .dport = v->dport};
	struct ssmf_community_id *h = ssmf_community_id_new(v->seed);
	int rc = h ? ssmf_community_id(h, &t, out) : -1;
	ssmf_community_id_free(h);
	return rc;
}

int main(void)
{
	char out[SSMF_COMMUNITY_ID_SIZE];
	for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
		CHECK(run_vector(&vectors[i], out) == 0);
		if (strcmp(out, vectors[i].want) != 0) {
			fprintf(stderr, "vector %zu: %s, want %s\n", i, out, vectors[i].want);
			check_failures++;
		}
	}
	/* not IP: no ID */
	uint8_t z[16] = {0};
	struct ssmf_cid_tuple none = {.src = z, .dst = z, .ip_version = 0, .proto = 6};
	struct ssmf_community_id *h = ssmf_community_id_new(0);
	CHECK(h && ssmf_community_id(h, &none, out) == -1 && out[0] == '\0');
	ssmf_community_id_free(h);
	return check_report("community_id");
}
