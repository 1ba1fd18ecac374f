#include "features/ingest.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapio/capture.h"

static char *dupstr(const char *s)
{
	return strdup(s ? s : "");
}

static void warn(const struct ssmf_ingest_hooks *h, const char *msg)
{
	if (h && h->warn)
		h->warn(h->user, msg);
}

static void fill_info(struct ssmf_input_info *info, const char *path, struct ssmf_capture *c,
                      const char *status, const char *message)
{
	info->path = dupstr(path);
	info->status = dupstr(status);
	info->message = dupstr(message);
	if (c) {
		char sha[65];
		ssmf_capture_sha256_hex(c, sha);
		info->sha256 = dupstr(sha);
		info->format = dupstr(ssmf_capture_format(c));
		info->size_bytes = ssmf_capture_file_bytes(c);
		info->packets = ssmf_capture_packets_read(c);
		info->linktype = ssmf_capture_linktype(c);
		info->linktype_name = dupstr(pcap_datalink_val_to_name(info->linktype));
		uint64_t ifdrop, osdrop;
		info->isb_count = ssmf_capture_drops(c, &ifdrop, &osdrop);
		info->isb_ifdrop = ifdrop;
		info->isb_osdrop = osdrop;
	} else {
		info->sha256 = dupstr("");
		info->format = dupstr("");
		info->linktype = -1;
		info->linktype_name = dupstr("");
	}
}

int ssmf_ingest(const char *const *paths, size_t npaths, const char *bpf_filter,
                struct ssmf_flowtable *t, const struct ssmf_ingest_hooks *hooks,
                struct ssmf_ingest_result *res)
{
	memset(res, 0, sizeof *res);
	res->inputs = calloc(npaths ? npaths : 1, sizeof *res->inputs);
	if (!res->inputs)
		return -1;
	uint64_t prev_last_ts = 0, bytes_before = 0; /* of the inputs already read */
	int have_prev = 0;
	for (size_t i = 0; i < npaths && !res->stopped && !res->sink_error; i++) {
		char err[1024] = "";
		struct ssmf_input_info *info = &res->inputs[res->ninputs++];
		if (hooks && hooks->input_started)
			hooks->input_started(hooks->user, i, paths[i]);
		struct ssmf_capture *c = ssmf_capture_open(paths[i], bpf_filter, err, sizeof err);
		if (!c) {
			fill_info(info, paths[i], NULL, "refused", err);
			res->refused++;
			continue;
		}
		int lt = ssmf_capture_linktype(c);
		if (!ssmf_decode_linktype_supported(lt)) {
			snprintf(err, sizeof err, "%s: link type %d (%s) is not supported",
			         paths[i], lt,
			         pcap_datalink_val_to_name(lt) ? pcap_datalink_val_to_name(lt)
			                                       : "unknown");
			fill_info(info, paths[i], c, "refused", err);
			res->refused++;
			ssmf_capture_close(c);
			continue;
		}
		struct ssmf_packet pkt;
		enum ssmf_capture_status st;
		uint64_t n = 0, first_ts = 0, last_ts = 0;
		while ((st = ssmf_capture_next(c, &pkt, err, sizeof err)) == SSMF_CAPTURE_PACKET) {
			if (n == 0) {
				first_ts = pkt.ts_ns;
				if (have_prev && first_ts < prev_last_ts) {
					char msg[1200];
					snprintf(
					    msg, sizeof msg,
					    "%s: starts %.6f s before the previous input ends: "
					    "time goes backwards across files, so the flows still "
					    "open were ended there (give inputs in time order)",
					    paths[i], (double)(prev_last_ts - first_ts) * 1e-9);
					warn(hooks, msg);
					/* Without this the table's clock, years ahead, would
					 * expire every flow of this input at its first packet. */
					if (ssmf_flowtable_new_timeline(t) != 0) {
						res->sink_error = 1;
						break;
					}
				}
			}
			if (pkt.ts_ns > last_ts)
				last_ts = pkt.ts_ns;
			n++;
			res->packets_read++;
			struct ssmf_decoded d;
			enum ssmf_skip_reason why =
			    ssmf_decode_packet(pkt.linktype, pkt.data, pkt.caplen, &d);
			if (why != SSMF_SKIP_NONE) {
				res->skipped[why]++;
			} else {
				struct ssmf_record r;
				res->packets_decoded++;
				/* the record is copied out only for a hook that takes it */
				struct ssmf_record *rp = hooks && hooks->record ? &r : NULL;
				if (ssmf_flowtable_add(t, &d, pkt.ts_ns, pkt.caplen, pkt.len, rp) !=
				    0) {
					res->sink_error = 1;
					break;
				}
				if (hooks && hooks->record && hooks->record(hooks->user, &r) != 0) {
					res->sink_error = 1;
					break;
				}
			}
			if (hooks && hooks->should_stop && hooks->should_stop(hooks->user)) {
				res->stopped = 1;
				break;
			}
			if (hooks && hooks->progress && (res->packets_read & 0xfff) == 0 &&
			    hooks->progress(hooks->user, res->packets_read,
			                    bytes_before + ssmf_capture_bytes_read(c))) {
				res->stopped = 1;
				break;
			}
		}
		if (n) {
			prev_last_ts = last_ts;
			have_prev = 1;
		}
		if (st == SSMF_CAPTURE_DAMAGED && !res->stopped &&
		    !(hooks && hooks->should_stop && hooks->should_stop(hooks->user))) {
			if (ssmf_capture_packets_read(c) == 0) {
				/* Nothing readable at all: libpcap refused the file. */
				fill_info(info, paths[i], c, "refused", err);
				res->refused++;
			} else {
				char msg[1200];
				snprintf(msg, sizeof msg, "%s; kept the %llu packets before it",
				         err, (unsigned long long)ssmf_capture_packets_read(c));
				warn(hooks, msg);
				fill_info(info, paths[i], c, "partial", err);
				res->partial++;
			}
		} else if (st == SSMF_CAPTURE_DAMAGED) {
			res->stopped = 1;
			fill_info(info, paths[i], c, "partial", "interrupted");
		} else {
			fill_info(info, paths[i], c, res->stopped ? "partial" : "ok",
			          res->stopped ? "interrupted" : "");
		}
		ssmf_capture_close(c);
		bytes_before += info->size_bytes;
		if (hooks && hooks->progress && !res->stopped &&
		    hooks->progress(hooks->user, res->packets_read, bytes_before))
			res->stopped = 1;
	}
	return res->sink_error ? -1 : 0;
}

void ssmf_ingest_result_free(struct ssmf_ingest_result *res)
{
	for (size_t i = 0; i < res->ninputs; i++) {
		struct ssmf_input_info *in = &res->inputs[i];
		free(in->path);
		free(in->format);
		free(in->sha256);
		free(in->status);
		free(in->message);
		free(in->linktype_name);
	}
	free(res->inputs);
	memset(res, 0, sizeof *res);
}
