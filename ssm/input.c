/* input.c - the fixed record normalisation (part of the model and of export). Each
 * feature names the record field it reads; the name is looked up in the record's field
 * table (features/ssmf_record.h) once per model, and each record is then read at the
 * field's offset and size. */
#include <stdio.h>
#include <string.h>

#include "ssm/internal.h"

#define LN_2_16 11.090354888959125 /* ln(65536): log1p of a u16 lands in [0, 1] */
#define LN_2_32 22.18070977791825  /* ln(2^32): log1p of a u32 lands in [0, 1] */

static const struct ssmf_norm_entry g_table[SSMF_N_FEATURES] = {
    {"log_ip_len", "ip_len", SSMF_NORM_LOG1P, 0, 1.0 / LN_2_16},
    {"log_payload_len", "payload_len", SSMF_NORM_LOG1P, 0, 1.0 / LN_2_16},
    {"log_gap_us", "gap_us", SSMF_NORM_LOG1P, 0, 1.0 / LN_2_32},
    {"log_tcp_window", "tcp_window", SSMF_NORM_LOG1P, 0, 1.0 / LN_2_16},
    {"ttl", "ttl", SSMF_NORM_LINEAR, 0, 1.0 / 255.0},
    {"log_pkt_index", "pkt_index", SSMF_NORM_LOG1P, 0, 1.0 / LN_2_16},
    {"direction", "direction", SSMF_NORM_LINEAR, 0, 1.0},
    {"tcp_fin", "tcp_flags", SSMF_NORM_BIT, SSMF_TCP_FIN, 0},
    {"tcp_syn", "tcp_flags", SSMF_NORM_BIT, SSMF_TCP_SYN, 0},
    {"tcp_rst", "tcp_flags", SSMF_NORM_BIT, SSMF_TCP_RST, 0},
    {"tcp_psh", "tcp_flags", SSMF_NORM_BIT, SSMF_TCP_PSH, 0},
    {"tcp_ack", "tcp_flags", SSMF_NORM_BIT, SSMF_TCP_ACK, 0},
    {"tcp_urg", "tcp_flags", SSMF_NORM_BIT, SSMF_TCP_URG, 0},
    {"tcp_ece", "tcp_flags", SSMF_NORM_BIT, SSMF_TCP_ECE, 0},
    {"tcp_cwr", "tcp_flags", SSMF_NORM_BIT, SSMF_TCP_CWR, 0},
    {"proto_tcp", "ip_proto", SSMF_NORM_EQUAL, 6, 0},
    {"proto_udp", "ip_proto", SSMF_NORM_EQUAL, 17, 0},
    {"proto_icmp", "ip_proto", SSMF_NORM_EQUAL, 1, 0},
    {"proto_icmpv6", "ip_proto", SSMF_NORM_EQUAL, 58, 0},
    {"proto_other", "ip_proto", SSMF_NORM_PROTO_OTHER, 0, 0},
    {"is_ipv6", "flags", SSMF_NORM_BIT, SSMF_REC_IPV6, 0},
    {"is_fragment", "flags", SSMF_NORM_BIT, SSMF_REC_FRAGMENT, 0},
    {"is_tunnel", "flags", SSMF_NORM_BIT, SSMF_REC_TUNNEL, 0},
    {"is_truncated", "flags", SSMF_NORM_BIT, SSMF_REC_TRUNCATED, 0},
    {"is_out_of_order", "flags", SSMF_NORM_BIT, SSMF_REC_OUT_OF_ORDER, 0},
};

static const struct ssmf_norm_constants g_consts = {
    .gap_dt_scale = 1e-3, /* gap in milliseconds */
    /* ip_len: roughly log-spaced where real traffic lives (40..1500 bytes) */
    .size_edges = {41, 53, 61, 77, 97, 121, 153, 193, 257, 321, 513, 769, 1025, 1281, 1481},
    /* gap_us: bucket 0 is a zero gap, then half-decades from 1 us to 100 s */
    .gap_edges = {1, 10, 32, 100, 317, 1000, 3163, 10000, 31623, 100000, 316228, 1000000, 3162278,
                  10000000, 100000000},
    .record_version = SSMF_RECORD_VERSION,
};

const struct ssmf_norm_entry *ssmf_norm_table(int *n_entries)
{
	if (n_entries)
		*n_entries = SSMF_N_FEATURES;
	return g_table;
}

const struct ssmf_norm_constants *ssmf_norm_consts(void)
{
	return &g_consts;
}

int input_fields_resolve(struct ssmf_input_fields *in, char *err, size_t errlen)
{
	for (int i = 0; i < SSMF_N_FEATURES; i++) {
		const struct ssmf_norm_entry *e = &g_table[i];
		if (ssmf_record_field_u32(e->field, &in->offset[i], &in->size[i]) < 0) {
			snprintf(
			    err, errlen,
			    "feature %s reads '%s', not an unsigned field of at most 32 bits of "
			    "the record",
			    e->name, e->field);
			return -1;
		}
	}
	return 0;
}

void input_normalise(const struct ssmf_input_fields *in, const struct ssmf_record *r,
                     ssmf_real *feat, ssmf_real *gdt)
{
	for (int i = 0; i < SSMF_N_FEATURES; i++) {
		const struct ssmf_norm_entry *e = &g_table[i];
		uint32_t v = ssmf_record_read_u32(r, in->offset[i], in->size[i]);
		ssmf_real f = 0;
		switch (e->kind) {
		case SSMF_NORM_LOG1P:
			f = R(log1p((double)v) * e->scale);
			break;
		case SSMF_NORM_LINEAR:
			f = R((double)v * e->scale);
			break;
		case SSMF_NORM_BIT:
			f = (v & e->arg) ? R(1) : R(0);
			break;
		case SSMF_NORM_EQUAL:
			f = v == e->arg ? R(1) : R(0);
			break;
		case SSMF_NORM_PROTO_OTHER:
			f = (v != 6 && v != 17 && v != 1 && v != 58) ? R(1) : R(0);
			break;
		}
		feat[i] = f;
	}
	*gdt = R(log1p((double)r->gap_us * g_consts.gap_dt_scale));
}

/* One record without a model: the lookup is made for this call (the model makes it once). */
void ssmf_normalise_record(const struct ssmf_record *r, ssmf_real *feat, ssmf_real *gdt)
{
	struct ssmf_input_fields in;
	char err[160];
	/* cannot fail with the tables compiled in: ssmf_model_alloc makes the same lookup and
	 * refuses to make a model when it fails, so no model and no test would run */
	if (input_fields_resolve(&in, err, sizeof err) < 0) {
		memset(feat, 0, SSMF_N_FEATURES * sizeof *feat);
		*gdt = 0;
		return;
	}
	input_normalise(&in, r, feat, gdt);
}

int ssmf_size_bucket(uint32_t ip_len)
{
	int b = 0;
	while (b < SSMF_N_SIZE_BUCKETS - 1 && ip_len >= g_consts.size_edges[b])
		b++;
	return b;
}

int ssmf_gap_bucket(uint32_t gap_us)
{
	int b = 0;
	while (b < SSMF_N_GAP_BUCKETS - 1 && gap_us >= g_consts.gap_edges[b])
		b++;
	return b;
}

void input_forward(const struct ssmf_input_fields *in, ssmf_real *feat, ssmf_real *gdt,
                   const struct ssmf_record *rec, const int *len, int B, int T)
{
#pragma omp parallel for schedule(static) num_threads(ssmf_threads())
	for (int b = 0; b < B; b++) {
		for (int t = 0; t < T; t++) {
			size_t bt = (size_t)b * T + t;
			if (t < len[b]) {
				input_normalise(in, &rec[bt], feat + bt * SSMF_N_FEATURES,
				                gdt + bt);
			} else {
				memset(feat + bt * SSMF_N_FEATURES, 0,
				       SSMF_N_FEATURES * sizeof(ssmf_real));
				gdt[bt] = 0;
			}
		}
	}
}
