#include "pcapio/capture.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapio/instream.h"

struct ssmf_capture {
	struct ssmf_instream *in;
	pcap_t *pcap;
	int linktype;
	int has_filter;
	struct bpf_program prog;
	uint64_t packets_read;
	char format[32];
	char path[4096];
};

struct ssmf_capture *ssmf_capture_open(const char *path, const char *bpf_filter, char *err,
                                       size_t errlen)
{
	struct ssmf_capture *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	snprintf(c->path, sizeof c->path, "%s", path);
	c->in = ssmf_instream_open(path, err, errlen);
	if (!c->in) {
		free(c);
		return NULL;
	}
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	FILE *f = ssmf_instream_take_file(c->in);
	c->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
	if (!c->pcap) {
		fclose(f);
		const char *why = ssmf_instream_error(c->in);
		snprintf(err, errlen, "%s: not a readable capture: %s", path, why ? why : pcap_err);
		ssmf_capture_close(c);
		return NULL;
	}
	c->linktype = pcap_datalink(c->pcap);
	if (bpf_filter && *bpf_filter) {
		if (pcap_compile(c->pcap, &c->prog, bpf_filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			snprintf(err, errlen, "%s: bad filter '%s': %s", path, bpf_filter,
			         pcap_geterr(c->pcap));
			ssmf_capture_close(c);
			return NULL;
		}
		c->has_filter = 1;
	}
	static const char *const comp_suffix[] = {"", ".gz", ".zst"};
	snprintf(c->format, sizeof c->format, "%s%s",
	         ssmf_instream_is_pcapng(c->in) ? "pcapng" : "pcap",
	         comp_suffix[ssmf_instream_compression(c->in)]);
	return c;
}

enum ssmf_capture_status ssmf_capture_next(struct ssmf_capture *c, struct ssmf_packet *pkt,
                                           char *err, size_t errlen)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc;
	/* The filter runs here rather than in libpcap so that packet numbers in
	 * messages count every packet of the file, as tshark and capinfos do. */
	while ((rc = pcap_next_ex(c->pcap, &hdr, &data)) == 1) {
		c->packets_read++;
		if (c->has_filter && !pcap_offline_filter(&c->prog, hdr, data))
			continue;
		pkt->ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000u + (uint64_t)hdr->ts.tv_usec;
		pkt->caplen = hdr->caplen;
		pkt->len = hdr->len;
		pkt->linktype = c->linktype;
		pkt->data = data;
		return SSMF_CAPTURE_PACKET;
	}
	const char *stream_err = ssmf_instream_error(c->in);
	if (rc == PCAP_ERROR_BREAK && !stream_err)
		return SSMF_CAPTURE_END;
	snprintf(err, errlen, "%s: damaged at packet %llu: %s", c->path,
	         (unsigned long long)c->packets_read + 1,
	         stream_err ? stream_err : pcap_geterr(c->pcap));
	return SSMF_CAPTURE_DAMAGED;
}

int ssmf_capture_linktype(const struct ssmf_capture *c)
{
	return c->linktype;
}

const char *ssmf_capture_format(const struct ssmf_capture *c)
{
	return c->format;
}

uint64_t ssmf_capture_packets_read(const struct ssmf_capture *c)
{
	return c->packets_read;
}

uint64_t ssmf_capture_bytes_read(const struct ssmf_capture *c)
{
	if (!ssmf_instream_is_direct(c->in))
		return ssmf_instream_raw_bytes_so_far(c->in);
	off_t pos = ftello(pcap_file(c->pcap));
	return pos > 0 ? (uint64_t)pos : 0;
}

uint64_t ssmf_capture_file_bytes(const struct ssmf_capture *c)
{
	ssmf_instream_drain(c->in);
	return ssmf_instream_raw_bytes(c->in);
}

void ssmf_capture_sha256_hex(struct ssmf_capture *c, char out[65])
{
	ssmf_instream_drain(c->in);
	ssmf_instream_sha256_hex(c->in, out);
}

void ssmf_capture_close(struct ssmf_capture *c)
{
	if (!c)
		return;
	if (c->has_filter)
		pcap_freecode(&c->prog);
	if (c->pcap)
		pcap_close(c->pcap);
	ssmf_instream_close(c->in);
	free(c);
}
