#include "pcapio/capture.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapio/instream.h"
#include "pcapio/pcapng.h"

#define MAX_FILTER_LINKTYPES 16

/* The filter compiled for one link type of a multi-link-type pcapng. */
struct typed_filter {
	int linktype;
	struct bpf_program prog;
};

struct ssmf_capture {
	struct ssmf_instream *in;
	pcap_t *pcap;
	int linktype;
	int has_filter;
	struct bpf_program prog;
	uint64_t packets_read;
	/* Our own pcapng reader, once libpcap gave up on a file it cannot represent. */
	struct ssmf_instream *ng_in;
	FILE *ng_file; /* ng_in's stream, closed before ng_in */
	struct ssmf_pcapng *ng;
	struct typed_filter ng_filters[MAX_FILTER_LINKTYPES];
	int ng_nfilters;
	char *filter_text;
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
		c->filter_text = strdup(bpf_filter);
		if (!c->filter_text) {
			snprintf(err, errlen, "%s: out of memory", path);
			ssmf_capture_close(c);
			return NULL;
		}
	}
	static const char *const comp_suffix[] = {"", ".gz", ".zst"};
	snprintf(c->format, sizeof c->format, "%s%s",
	         ssmf_instream_is_pcapng(c->in) ? "pcapng" : "pcap",
	         comp_suffix[ssmf_instream_compression(c->in)]);
	return c;
}

/* libpcap 1.10 reads pcapng with one link type and one snapshot length; these
 * are its words for a file whose later interfaces differ (pcap-ng.c). */
static int libpcap_cannot_represent(const char *why)
{
	return strstr(why, "different from the type of the first interface") ||
	       strstr(why, "different from the snapshot length of the first interface");
}

/* Reopens the file with our pcapng reader and skips the packets libpcap
 * already gave. Only for a named file: stdin cannot be read twice. */
static int switch_to_own_reader(struct ssmf_capture *c, char *err, size_t errlen)
{
	if (strcmp(c->path, "-") == 0 || !ssmf_instream_is_pcapng(c->in))
		return -1;
	char why[512];
	c->ng_in = ssmf_instream_open(c->path, why, sizeof why);
	if (!c->ng_in)
		return -1;
	c->ng_file = ssmf_instream_take_file(c->ng_in);
	c->ng = ssmf_pcapng_open(c->ng_file, why, sizeof why);
	if (!c->ng) {
		snprintf(err, errlen, "%s: %s", c->path, why);
		return -1;
	}
	struct ssmf_packet skipped;
	for (uint64_t k = 0; k < c->packets_read; k++)
		if (ssmf_pcapng_next(c->ng, &skipped, why, sizeof why) != SSMF_CAPTURE_PACKET) {
			snprintf(err, errlen, "%s: damaged at packet %llu: %s", c->path,
			         (unsigned long long)k + 1, why);
			return -1;
		}
	return 0;
}

/* The filter for a packet of `linktype` from our reader: compiled once per link type. */
static const struct bpf_program *filter_for(struct ssmf_capture *c, int linktype, char *err,
                                            size_t errlen)
{
	for (int k = 0; k < c->ng_nfilters; k++)
		if (c->ng_filters[k].linktype == linktype)
			return &c->ng_filters[k].prog;
	if (c->ng_nfilters == MAX_FILTER_LINKTYPES) {
		snprintf(err, errlen, "more than %d link types to filter", MAX_FILTER_LINKTYPES);
		return NULL;
	}
	pcap_t *dead = pcap_open_dead(linktype, 262144);
	struct typed_filter *f = &c->ng_filters[c->ng_nfilters];
	if (!dead || pcap_compile(dead, &f->prog, c->filter_text, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad filter '%s' for link type %d: %s", c->filter_text,
		         linktype, dead ? pcap_geterr(dead) : "out of memory");
		if (dead)
			pcap_close(dead);
		return NULL;
	}
	pcap_close(dead);
	f->linktype = linktype;
	c->ng_nfilters++;
	return &f->prog;
}

static enum ssmf_capture_status next_own(struct ssmf_capture *c, struct ssmf_packet *pkt, char *err,
                                         size_t errlen)
{
	char why[512];
	enum ssmf_capture_status st;
	while ((st = ssmf_pcapng_next(c->ng, pkt, why, sizeof why)) == SSMF_CAPTURE_PACKET) {
		c->packets_read++;
		if (!c->has_filter)
			return st;
		const struct bpf_program *prog = filter_for(c, pkt->linktype, why, sizeof why);
		if (!prog)
			break;
		struct pcap_pkthdr h = {.caplen = pkt->caplen, .len = pkt->len};
		if (pcap_offline_filter(prog, &h, pkt->data))
			return st;
	}
	if (st == SSMF_CAPTURE_END && !ssmf_instream_error(c->ng_in))
		return SSMF_CAPTURE_END;
	const char *stream_err = ssmf_instream_error(c->ng_in);
	snprintf(err, errlen, "%s: damaged at packet %llu: %s", c->path,
	         (unsigned long long)c->packets_read + 1, stream_err ? stream_err : why);
	return SSMF_CAPTURE_DAMAGED;
}

enum ssmf_capture_status ssmf_capture_next(struct ssmf_capture *c, struct ssmf_packet *pkt,
                                           char *err, size_t errlen)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc;
	if (c->ng)
		return next_own(c, pkt, err, errlen);
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
	if (!stream_err && rc == PCAP_ERROR && libpcap_cannot_represent(pcap_geterr(c->pcap))) {
		err[0] = 0;
		if (switch_to_own_reader(c, err, errlen) == 0)
			return next_own(c, pkt, err, errlen);
		if (err[0])
			return SSMF_CAPTURE_DAMAGED;
	}
	snprintf(err, errlen, "%s: damaged at packet %llu: %s", c->path,
	         (unsigned long long)c->packets_read + 1,
	         stream_err ? stream_err : pcap_geterr(c->pcap));
	return SSMF_CAPTURE_DAMAGED;
}

uint64_t ssmf_capture_drops(const struct ssmf_capture *c, uint64_t *ifdrop, uint64_t *osdrop)
{
	*ifdrop = *osdrop = 0;
	if (c->ng)
		return ssmf_pcapng_drops(c->ng, ifdrop, osdrop);
	if (!ssmf_instream_is_pcapng(c->in) || strcmp(c->path, "-") == 0)
		return 0;
	/* libpcap skipped the statistics blocks: a second pass over the block
	 * headers only. A plain file is walked through a mapping, without hashing
	 * it again; a compressed one is decompressed (and hashed) again. */
	uint64_t n = 0;
	if (ssmf_instream_compression(c->in) == SSMF_COMP_NONE) {
		n = ssmf_pcapng_read_stats_file(c->path, ifdrop, osdrop);
	} else {
		char why[256];
		struct ssmf_instream *in = ssmf_instream_open(c->path, why, sizeof why);
		if (in) {
			FILE *f = ssmf_instream_take_file(in);
			n = ssmf_pcapng_read_stats(f, ifdrop, osdrop);
			fclose(f);
			ssmf_instream_close(in);
		}
	}
	return n;
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
	for (int k = 0; k < c->ng_nfilters; k++)
		pcap_freecode(&c->ng_filters[k].prog);
	free(c->filter_text);
	ssmf_pcapng_close(c->ng);
	if (c->ng_file)
		fclose(c->ng_file);
	ssmf_instream_close(c->ng_in);
	if (c->pcap)
		pcap_close(c->pcap);
	ssmf_instream_close(c->in);
	free(c);
}
