/* The decoder on hand-built packets: every layer, and every truncation of each. */
#include <pcap/dlt.h>
#include <string.h>

#include "check.h"
#include "features/decode.h"
#include "features/ssmf_record.h"

static size_t put(uint8_t *p, const char *hex)
{
	size_t n = 0;
	for (const char *s = hex; s[0] && s[1];) {
		if (*s == ' ') {
			s++;
			continue;
		}
		unsigned v;
		sscanf(s, "%2x", &v);
		p[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

#define ETH "000102030405 060708090a0b"
/* IPv4: 20-byte header, total length 40, TTL 61, proto TCP, 10.0.0.1 -> 10.0.0.2 */
#define IPV4_TCP "4500 0028 1234 0000 3d06 0000 0a000001 0a000002"
/* TCP 1234 -> 80, data offset 5, flags SYN|ACK, window 0x2000 */
#define TCP_SYNACK "04d2 0050 00000001 00000000 5012 2000 0000 0000"

/* Decodes, then checks that every shorter prefix of the packet is skipped
 * (never read past the end, never mistaken for a whole packet). */
static enum ssmf_skip_reason decode_all_prefixes(int dlt, const uint8_t *p, size_t n,
                                                 struct ssmf_decoded *d)
{
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees any overread */
		memcpy(copy, p, cut);
		struct ssmf_decoded x;
		enum ssmf_skip_reason why = ssmf_decode_packet(dlt, copy, (uint32_t)cut, &x);
		free(copy);
		/* A prefix may decode when only payload is cut; its headers must then be right. */
		if (why == SSMF_SKIP_NONE)
			CHECK(x.ip_len > 0);
	}
	uint8_t *copy = malloc(n);
	memcpy(copy, p, n);
	enum ssmf_skip_reason why = ssmf_decode_packet(dlt, copy, (uint32_t)n, d);
	free(copy);
	return why;
}

static void test_ethernet_vlan_ipv4_tcp(void)
{
	uint8_t p[128];
	size_t n = put(p, ETH "8100 0064 88a8 00c8" /* two tags: 100 outer? no: 0x8100 then QinQ */
	                      "0800" IPV4_TCP TCP_SYNACK);
	struct ssmf_decoded d;
	CHECK_EQ(decode_all_prefixes(DLT_EN10MB, p, n, &d), SSMF_SKIP_NONE);
	CHECK_EQ(d.vlan, 200); /* innermost tag */
	CHECK_EQ(d.ip_version, 4);
	CHECK_EQ(d.ttl, 61);
	CHECK_EQ(d.proto, 6);
	CHECK_EQ(d.sport, 1234);
	CHECK_EQ(d.dport, 80);
	CHECK_EQ(d.tcp_flags, 0x12);
	CHECK_EQ(d.tcp_window, 0x2000);
	CHECK_EQ(d.ip_len, 40);
	CHECK_EQ(d.payload_len, 0);
	CHECK_EQ(d.src[3], 1);
	CHECK_EQ(d.dst[3], 2);
}

static void test_ipv6_ext_udp(void)
{
	uint8_t p[160];
	/* IPv6, payload 8+8+12 = 28, next header hop-by-hop, hop limit 7;
	 * HBH (8 bytes, next = dest opts), dest opts (8 bytes, next = UDP); UDP 53 -> 5353, 4
	 * bytes. */
	size_t n = put(p, "6000 0000 001c 00 07"
	                  "20010db8000000000000000000000001 20010db8000000000000000000000002"
	                  "3c00 000000000000"
	                  "1100 000000000000"
	                  "0035 14e9 000c 0000 deadbeef");
	struct ssmf_decoded d;
	CHECK_EQ(decode_all_prefixes(DLT_RAW, p, n, &d), SSMF_SKIP_NONE);
	CHECK_EQ(d.ip_version, 6);
	CHECK_EQ(d.proto, 17);
	CHECK_EQ(d.ttl, 7);
	CHECK_EQ(d.sport, 53);
	CHECK_EQ(d.dport, 5353);
	CHECK_EQ(d.ip_len, 68);
	CHECK_EQ(d.payload_len, 4);
	CHECK(d.rec_flags & SSMF_REC_IPV6);
}

static void test_mpls_pppoe_sll(void)
{
	uint8_t p[160];
	struct ssmf_decoded d;
	/* Two MPLS labels, the second bottom-of-stack, then IPv4/TCP. */
	size_t n = put(p, ETH "8847 00010040 00020140" IPV4_TCP TCP_SYNACK);
	CHECK_EQ(decode_all_prefixes(DLT_EN10MB, p, n, &d), SSMF_SKIP_NONE);
	CHECK_EQ(d.sport, 1234);
	/* PPPoE session, PPP protocol IPv4. */
	n = put(p, ETH "8864 1100 0001 002a 0021" IPV4_TCP TCP_SYNACK);
	CHECK_EQ(decode_all_prefixes(DLT_EN10MB, p, n, &d), SSMF_SKIP_NONE);
	CHECK_EQ(d.dport, 80);
	/* Linux cooked capture v1: protocol at offset 14. */
	n = put(p, "0000 0001 0006 000102030405 0000 0800" IPV4_TCP TCP_SYNACK);
	CHECK_EQ(decode_all_prefixes(DLT_LINUX_SLL, p, n, &d), SSMF_SKIP_NONE);
	CHECK_EQ(d.tcp_flags, 0x12);
	/* ARP is not IP: skipped as such, not as malformed. */
	n = put(p, ETH "0806 0001 0800 0604 0001");
	CHECK_EQ(ssmf_decode_packet(DLT_EN10MB, p, (uint32_t)n, &d), SSMF_SKIP_NON_IP);
}

static void test_tunnels(void)
{
	uint8_t p[256];
	struct ssmf_decoded d;
	/* Outer IPv4/UDP to 4789 (VXLAN, VNI 0x123456) carrying Ethernet/IPv4/TCP. */
	size_t n = put(p, ETH "0800"
	                      "4500 005a 0000 0000 4011 0000 c0a80001 c0a80002"
	                      "c000 12b5 0046 0000"
	                      "08000000 12345600" ETH "0800" IPV4_TCP TCP_SYNACK);
	CHECK_EQ(decode_all_prefixes(DLT_EN10MB, p, n, &d), SSMF_SKIP_NONE);
	CHECK_EQ(d.proto, 6);
	CHECK_EQ(d.sport, 1234);
	CHECK_EQ(d.tunnel_id, 0x123456);
	CHECK_EQ(d.tunnel_key, 0x123456);
	CHECK(d.rec_flags & SSMF_REC_TUNNEL);
	/* GRE with a key, carrying IPv4/TCP: the key is recorded, not keyed on. */
	n = put(p, ETH "0800 4500 0034 0000 0000 402f 0000 c0a80001 c0a80002"
	               "2000 0800 0000beef" IPV4_TCP TCP_SYNACK);
	CHECK_EQ(decode_all_prefixes(DLT_EN10MB, p, n, &d), SSMF_SKIP_NONE);
	CHECK_EQ(d.tunnel_id, 0xbeef);
	CHECK_EQ(d.tunnel_key, 0);
	CHECK_EQ(d.dst[3], 2);
	CHECK_EQ(d.dst[0], 10);
}

static void test_hostile(void)
{
	uint8_t p[4096];
	struct ssmf_decoded d;
	/* IHL 4 (16 bytes): invalid. */
	size_t n = put(p, "4400 0028 0000 0000 4006 0000 0a000001 0a000002 0000 0000");
	CHECK_EQ(ssmf_decode_packet(DLT_RAW, p, (uint32_t)n, &d), SSMF_SKIP_BAD_IP_HEADER);
	/* TCP data offset 15 (60 bytes) in a 40-byte datagram. */
	n = put(p, IPV4_TCP "04d2 0050 00000001 00000000 f012 2000 0000 0000");
	CHECK_EQ(ssmf_decode_packet(DLT_RAW, p, (uint32_t)n, &d), SSMF_SKIP_BAD_L4_HEADER);
	/* 1000 stacked VLAN tags: bounded, no recursion blow-up. */
	n = put(p, ETH);
	for (int i = 0; i < 1000; i++)
		n += put(p + n, "8100 0001");
	n += put(p + n, "0800" IPV4_TCP TCP_SYNACK);
	CHECK_EQ(ssmf_decode_packet(DLT_EN10MB, p, (uint32_t)n, &d), SSMF_SKIP_BAD_ENCAP);
	/* An IPv6 chain of 100 destination-options headers. */
	n = put(p, "6000 0000 0320 3c 07"
	           "20010db8000000000000000000000001 20010db8000000000000000000000002");
	for (int i = 0; i < 100; i++)
		n += put(p + n, "3c00 000000000000");
	CHECK_EQ(ssmf_decode_packet(DLT_RAW, p, (uint32_t)n, &d), SSMF_SKIP_BAD_IP6_EXT);
	/* A non-first IPv4 fragment: no L4 header read, marked. */
	n = put(p, "4500 0028 1234 0010 4006 0000 0a000001 0a000002 0000 0000 0000 0000 0000");
	CHECK_EQ(ssmf_decode_packet(DLT_RAW, p, (uint32_t)n, &d), SSMF_SKIP_NONE);
	CHECK(d.is_fragment && !d.first_fragment && !d.has_ports);
	CHECK_EQ(d.frag_id, 0x1234);
	/* Unknown link type. */
	CHECK_EQ(ssmf_decode_packet(4242, p, (uint32_t)n, &d), SSMF_SKIP_LINKTYPE);
}

int main(void)
{
	test_ethernet_vlan_ipv4_tcp();
	test_ipv6_ext_udp();
	test_mpls_pppoe_sll();
	test_tunnels();
	test_hostile();
	return check_report("test_decode");
}
