/* ssmf_record.h - the per-packet feature record: the live contract.
 *
 * The XDP/eBPF harvester, `ssmflow extract` and `ssmflow score` all produce
 * exactly this struct, bit for bit. eBPF has no floating point, so every
 * field is an integer; all normalisation lives in the model's input stage.
 *
 * Layout: little-endian, naturally aligned, 32 bytes, no implicit padding.
 * Version rule: new fields only go into `reserved` (readers ignore nonzero
 * reserved bytes of a newer minor revision); any change to an existing field's
 * meaning, size or offset is a new SSMF_RECORD_VERSION. Documented field by
 * field in ssmflow-formats(5).
 */
#ifndef SSMF_RECORD_H
#define SSMF_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SSMF_RECORD_VERSION 1u
#define SSMF_RECORD_SIZE    32u

/* `gap_us` saturates here: 2^32-1 us is about 71 minutes. */
#define SSMF_GAP_US_MAX UINT32_MAX
/* `pkt_index` saturates here. */
#define SSMF_PKT_INDEX_MAX UINT16_MAX

/* Bits of `flags`. */
enum ssmf_record_flag {
	SSMF_REC_IPV6 = 1u << 0,         /* network layer is IPv6 (else IPv4 or none) */
	SSMF_REC_FRAGMENT = 1u << 1,     /* part of a fragmented IP datagram */
	SSMF_REC_TUNNEL = 1u << 2,       /* decoded from inside GRE/VXLAN/GTP-U/IP-in-IP */
	SSMF_REC_TRUNCATED = 1u << 3,    /* captured length < wire length (snaplen) */
	SSMF_REC_OUT_OF_ORDER = 1u << 4, /* timestamp earlier than the flow's previous */
};

/* TCP flag bits as on the wire (byte 13 of the TCP header). */
enum ssmf_tcp_flag {
	SSMF_TCP_FIN = 0x01,
	SSMF_TCP_SYN = 0x02,
	SSMF_TCP_RST = 0x04,
	SSMF_TCP_PSH = 0x08,
	SSMF_TCP_ACK = 0x10,
	SSMF_TCP_URG = 0x20,
	SSMF_TCP_ECE = 0x40,
	SSMF_TCP_CWR = 0x80,
};

/* The record's fields in order, one row each: X(name, C type, elements, offset, doc).
 * Built from it: the checks of the struct below, the HDF5 compound type of /packets
 * (datasets/schema.c), the record stream's encoding (features/record_stream.c), and the
 * name -> offset/size lookup through which the model's input stage (ssm/input.c) and the
 * CUDA kernels (cuda/bodies.h) read the fields their normalisation table names. A new
 * field is a row here and a member in the struct (both in `reserved`'s place: the version
 * rule). tests/oracle/test_record_fields.py holds the table against h5py's view of a
 * dataset, the Python consumer's dtype and ssmflow-formats(5). */
#define SSMF_RECORD_FIELDS(X)                                                                      \
	X(ts_ns, uint64_t, 1, 0, "capture time, ns since the Unix epoch")                          \
	X(flow_id, uint32_t, 1, 8, "flow number within the dataset / stream")                      \
	X(gap_us, uint32_t, 1, 12, "us since the flow's previous packet (0 first); saturating")    \
	X(ip_len, uint16_t, 1, 16, "IP total length (IPv6: payload length + 40); saturating")      \
	X(payload_len, uint16_t, 1, 18, "L4 payload bytes (IP length minus IP and L4 headers)")    \
	X(tcp_window, uint16_t, 1, 20, "raw TCP window field (unscaled), 0 if not TCP")            \
	X(pkt_index, uint16_t, 1, 22, "0-based index of the packet in its flow; saturating")       \
	X(tcp_flags, uint8_t, 1, 24, "enum ssmf_tcp_flag bits, 0 if not TCP")                      \
	X(ttl, uint8_t, 1, 25, "IPv4 TTL or IPv6 hop limit")                                       \
	X(ip_proto, uint8_t, 1, 26, "IP protocol number of the L4 header (6 TCP, 17 UDP, ...)")    \
	X(direction, uint8_t, 1, 27, "0 = from the flow's initiator, 1 = towards it")              \
	X(flags, uint8_t, 1, 28, "enum ssmf_record_flag bits")                                     \
	X(reserved, uint8_t, 3, 29, "zero; room for new fields (see the version rule)")

/* Each field is documented in its row of SSMF_RECORD_FIELDS. */
struct ssmf_record {
	uint64_t ts_ns;
	uint32_t flow_id;
	uint32_t gap_us;
	uint16_t ip_len;
	uint16_t payload_len;
	uint16_t tcp_window;
	uint16_t pkt_index;
	uint8_t tcp_flags;
	uint8_t ttl;
	uint8_t ip_proto;
	uint8_t direction;
	uint8_t flags;
	uint8_t reserved[3];
};

/* The struct against the table, field by field: offset and size; the sizes add up to the
 * record, so there is no padding and no field the table leaves out. */
#define SSMF_RECORD_CHECK_FIELD(name, type, n, off, doc)                                           \
	_Static_assert(offsetof(struct ssmf_record, name) == (off), #name " offset");              \
	_Static_assert(sizeof(((struct ssmf_record *)0)->name) == sizeof(type) * (n),              \
	               #name " size");
SSMF_RECORD_FIELDS(SSMF_RECORD_CHECK_FIELD)
#undef SSMF_RECORD_CHECK_FIELD
#define SSMF_RECORD_FIELD_BYTES(name, type, n, off, doc) +sizeof(type) * (n)
_Static_assert(0 SSMF_RECORD_FIELDS(SSMF_RECORD_FIELD_BYTES) == SSMF_RECORD_SIZE,
               "the table's fields fill the record");
#undef SSMF_RECORD_FIELD_BYTES
_Static_assert(sizeof(struct ssmf_record) == SSMF_RECORD_SIZE, "record is 32 bytes");

/* One row of the table as data. */
struct ssmf_record_field {
	const char *name;
	const char *type; /* C type of one element, e.g. "uint16_t" */
	uint32_t offset;  /* bytes from the start of the record */
	uint32_t size;    /* bytes of one element */
	uint32_t count;   /* elements (1, or the array's length) */
	const char *doc;
};

/* The table's rows in record order; *n receives their number. */
static inline const struct ssmf_record_field *ssmf_record_fields(int *n)
{
#define SSMF_RECORD_FIELD_ROW(name, type, cnt, off, doc)                                           \
	{#name, #type, off, sizeof(type), cnt, doc},
	static const struct ssmf_record_field rows[] = {SSMF_RECORD_FIELDS(SSMF_RECORD_FIELD_ROW)};
#undef SSMF_RECORD_FIELD_ROW
	*n = (int)(sizeof rows / sizeof rows[0]);
	return rows;
}

/* The row of the field called `name`, or NULL. */
static inline const struct ssmf_record_field *ssmf_record_field_find(const char *name)
{
	int n;
	const struct ssmf_record_field *f = ssmf_record_fields(&n);
	for (int i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return &f[i];
	return NULL;
}

/* The offset and size of the scalar field `name` of at most 32 bits (what
 * ssmf_record_read_u32 reads); -1 when there is no such field. */
static inline int ssmf_record_field_u32(const char *name, uint32_t *offset, uint32_t *size)
{
	const struct ssmf_record_field *f = ssmf_record_field_find(name);
	if (!f || f->count != 1 || f->size > 4)
		return -1;
	*offset = f->offset;
	*size = f->size;
	return 0;
}

/* The value of the unsigned scalar field of `size` bytes (1, 2 or 4) at `offset` in r: a
 * field looked up once by name (ssmf_record_field_u32) and read per record. Also compiled
 * for the GPU (cuda/bodies.h). */
#ifdef __CUDACC__
#define SSMF_RECORD_FN static inline __host__ __device__
#else
#define SSMF_RECORD_FN static inline
#endif
SSMF_RECORD_FN uint32_t ssmf_record_read_u32(const struct ssmf_record *r, uint32_t offset,
                                             uint32_t size)
{
	const unsigned char *p = (const unsigned char *)r + offset;
	if (size == 1)
		return p[0];
	if (size == 2) {
		uint16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

#endif
