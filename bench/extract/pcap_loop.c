/* The bare libpcap read loop (pcap_next_ex only): the floor for `extract`. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	if (argc != 2) {
		fprintf(stderr, "usage: pcap_loop CAPTURE\n");
		return 1;
	}
	pcap_t *p =
	    pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p) {
		fprintf(stderr, "pcap_loop: %s\n", err);
		return 2;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, bytes = 0, sum = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		n++;
		bytes += h->caplen;
		sum += h->caplen ? d[0] : 0; /* touch the packet, as any reader must */
	}
	printf("%llu packets %llu bytes %llu\n", (unsigned long long)n, (unsigned long long)bytes,
	       (unsigned long long)sum);
	pcap_close(p);
	return 0;
}
