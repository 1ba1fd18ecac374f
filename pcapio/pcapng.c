/* pcapng.c - the pcapng block reader (draft-ietf-opsawg-pcapng). */
#include "pcapio/pcapng.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BT_SHB         0x0a0d0d0au
#define BT_IDB         0x00000001u
#define BT_PB          0x00000002u /* obsolete packet block */
#define BT_SPB         0x00000003u
#define BT_ISB         0x00000005u
#define BT_EPB         0x00000006u
#define BOM            0x1a2b3c4du
#define OPT_END        0
#define IF_TSRESOL     9
#define IF_TSOFFSET    14
#define ISB_IFDROP     5
#define ISB_OSDROP     7
#define BLOCK_MIN      12 /* type, total length, trailing total length */
#define MAX_INTERFACES 65536
#define LINKTYPE_NFLOG 239
#define NFLOG_HEADER   4
#define SKIP_BY_SEEK   (64u << 10)
#define NS_PER_S       1000000000ull

struct iface {
	int linktype;
	uint32_t snaplen;
	uint64_t units_per_s; /* timestamp units per second, from if_tsresol */
	int64_t offset_s;     /* if_tsoffset */
	uint64_t ifdrop, osdrop;
};

struct ssmf_pcapng {
	FILE *f;
	int swapped; /* the section was written in the other byte order */
	struct iface *ifs;
	size_t nifs, cap_ifs;
	uint8_t *block; /* the current block, without its first 8 bytes */
	size_t cap_block;
	uint64_t isb_count;
	uint64_t done_ifdrop, done_osdrop; /* sections already left */
	int stats_only;                    /* packet and other blocks are skipped unread */
};

static uint16_t get16(const struct ssmf_pcapng *r, const uint8_t *p)
{
	uint16_t v = (uint16_t)(p[0] | p[1] << 8);
	return r->swapped ? (uint16_t)(v >> 8 | v << 8) : v;
}

static uint32_t get32(const struct ssmf_pcapng *r, const uint8_t *p)
{
	uint32_t v =
	    (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return r->swapped ? __builtin_bswap32(v) : v;
}

static uint64_t get64(const struct ssmf_pcapng *r, const uint8_t *p)
{
	/* 64-bit option values are in the section's byte order as a whole. */
	uint64_t lo = get32(r, p), hi = get32(r, p + 4);
	return r->swapped ? lo << 32 | hi : hi << 32 | lo;
}

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "pcapng: %s", what);
	return -1;
}

/* Reads the rest of a block whose first 8 bytes were `hdr` (and the next
 * `nprefix` bytes `prefix`, already read) into r->block; returns the body
 * length (total length minus 12) or -1. */
static long read_block(struct ssmf_pcapng *r, const uint8_t hdr[8], const uint8_t *prefix,
                       size_t nprefix, char *err, size_t errlen)
{
	uint32_t total = get32(r, hdr + 4);
	if (total < BLOCK_MIN + nprefix || total % 4 != 0 || total > SSMF_PCAPNG_MAX_BLOCK)
		return fail(err, errlen, "bad block length (not a multiple of 4 up to 16 MiB)");
	size_t rest = total - 8;
	if (rest > r->cap_block) {
		uint8_t *b = realloc(r->block, rest);
		if (!b)
			return fail(err, errlen, "out of memory");
		r->block = b;
		r->cap_block = rest;
	}
	if (nprefix) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(r->block, prefix, nprefix);
	if (fread(r->block + nprefix, 1, rest - nprefix, r->f) != rest - nprefix)
		return fail(err, errlen, "truncated block");
	if (get32(r, r->block + rest - 4) != total)
		return fail(err, errlen, "block total length in header and trailer differ");
	return (long)(rest - 4);
}

/* Walks the options in [p, p + len): calls `on` for each; -1 if one overruns. */
static int each_option(struct ssmf_pcapng *r, const uint8_t *p, size_t len,
                       void (*on)(struct ssmf_pcapng *, void *, uint16_t, const uint8_t *,
                                  uint16_t),
                       void *arg)
{
	size_t off = 0;
	while (off + 4 <= len) {
		uint16_t code = get16(r, p + off), olen = get16(r, p + off + 2);
		off += 4;
		if (code == OPT_END)
			return 0;
		if (olen > len - off)
			return -1;
		on(r, arg, code, p + off, olen);
		off += ((size_t)olen + 3) & ~(size_t)3;
	}
	return 0;
}

static void idb_option(struct ssmf_pcapng *r, void *arg, uint16_t code, const uint8_t *v,
                       uint16_t len)
{
	struct iface *i = arg;
	if (code == IF_TSRESOL && len >= 1) {
		unsigned e = v[0] & 0x7f;
		/* 2^-e or 10^-e seconds; beyond 2^-63 or 10^-19 a u64 cannot count them */
		if (v[0] & 0x80) {
			if (e <= 63)
				i->units_per_s = 1ull << e;
		} else if (e <= 19) {
			uint64_t u = 1;
			for (unsigned k = 0; k < e; k++)
				u *= 10;
			i->units_per_s = u;
		}
	} else if (code == IF_TSOFFSET && len >= 8) {
		i->offset_s = (int64_t)get64(r, v);
	}
}

static void isb_option(struct ssmf_pcapng *r, void *arg, uint16_t code, const uint8_t *v,
                       uint16_t len)
{
	struct iface *i = arg;
	if (code == ISB_IFDROP && len >= 8) {
		i->ifdrop = get64(r, v);
	} else if (code == ISB_OSDROP && len >= 8) {
		i->osdrop = get64(r, v);
	}
}

static void leave_section(struct ssmf_pcapng *r)
{
	for (size_t k = 0; k < r->nifs; k++) {
		r->done_ifdrop += r->ifs[k].ifdrop;
		r->done_osdrop += r->ifs[k].osdrop;
	}
	r->nifs = 0;
}

/* A section header: the byte-order magic decides how the rest is read. */
static int read_shb(struct ssmf_pcapng *r, const uint8_t hdr[8], char *err, size_t errlen)
{
	uint8_t bom[4];
	if (fread(bom, 1, 4, r->f) != 4)
		return fail(err, errlen, "truncated section header");
	uint32_t le = (uint32_t)bom[0] | (uint32_t)bom[1] << 8 | (uint32_t)bom[2] << 16 |
	              (uint32_t)bom[3] << 24;
	if (le == BOM)
		r->swapped = 0;
	else if (__builtin_bswap32(le) == BOM)
		r->swapped = 1;
	else
		return fail(err, errlen, "bad byte-order magic in section header");
	/* magic (4), major and minor version (2 + 2), section length (8), options */
	long body = read_block(r, hdr, bom, sizeof bom, err, errlen);
	if (body < 0)
		return -1;
	if (body < 16 || get16(r, r->block + 4) != 1)
		return fail(err, errlen, "unsupported section header version");
	leave_section(r);
	return 0;
}

static struct iface *add_iface(struct ssmf_pcapng *r)
{
	if (r->nifs == MAX_INTERFACES)
		return NULL;
	if (r->nifs == r->cap_ifs) {
		size_t n = r->cap_ifs ? 2 * r->cap_ifs : 8;
		struct iface *p = realloc(r->ifs, n * sizeof *p);
		if (!p)
			return NULL;
		r->ifs = p;
		r->cap_ifs = n;
	}
	struct iface *i = &r->ifs[r->nifs++];
	*i = (struct iface){.units_per_s = 1000000};
	return i;
}

/* An interface description block's body (`len` bytes, trailer excluded). */
static int on_idb(struct ssmf_pcapng *r, const uint8_t *b, size_t len, char *err, size_t errlen)
{
	if (len < 8)
		return fail(err, errlen, "interface description block too short");
	struct iface *i = add_iface(r);
	if (!i)
		return fail(err, errlen, "too many interfaces");
	i->linktype = get16(r, b);
	i->snaplen = get32(r, b + 4);
	if (each_option(r, b + 8, len - 8, idb_option, i) != 0)
		return fail(err, errlen, "interface description option overruns its block");
	return 0;
}

/* An interface statistics block's body. */
static int on_isb(struct ssmf_pcapng *r, const uint8_t *b, size_t len, char *err, size_t errlen)
{
	if (len < 12)
		return fail(err, errlen, "interface statistics block too short");
	uint32_t id = get32(r, b);
	if (id >= r->nifs)
		return fail(err, errlen, "statistics of an interface no IDB described");
	r->isb_count++;
	/* Counters are totals since capture start: the last ISB counts. */
	if (each_option(r, b + 12, len - 12, isb_option, &r->ifs[id]) != 0)
		return fail(err, errlen, "interface statistics option overruns its block");
	return 0;
}

static uint64_t to_ns(const struct iface *i, uint64_t ts)
{
	uint64_t u = i->units_per_s ? i->units_per_s : 1000000;
	uint64_t s = ts / u, rem = ts % u;
	uint64_t frac =
	    u <= 10 * NS_PER_S ? rem * NS_PER_S / u : (uint64_t)((long double)rem * NS_PER_S / u);
	return (s + (uint64_t)i->offset_s) * NS_PER_S + frac; /* wraps, never traps */
}

struct ssmf_pcapng *ssmf_pcapng_open(FILE *f, char *err, size_t errlen)
{
	struct ssmf_pcapng *r = calloc(1, sizeof *r);
	if (!r) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	r->f = f;
	uint8_t hdr[8];
	if (fread(hdr, 1, 8, f) != 8 || get32(r, hdr) != BT_SHB) {
		fail(err, errlen, "no section header block at the start");
		ssmf_pcapng_close(r);
		return NULL;
	}
	if (read_shb(r, hdr, err, errlen) != 0) {
		ssmf_pcapng_close(r);
		return NULL;
	}
	return r;
}

static int packet_iface(struct ssmf_pcapng *r, uint32_t id, char *err, size_t errlen)
{
	if (id >= r->nifs)
		return fail(err, errlen, "packet of an interface no IDB described");
	return 0;
}

/* NFLOG's TLV lengths and types are in the capturing host's byte order; as
 * libpcap does (swap_nflog_header), those of a big-endian section are turned
 * into the reader's, which the decoder takes to be little-endian. */
static void nflog_to_little_endian(uint8_t *p, size_t caplen)
{
	if (caplen < NFLOG_HEADER || p[1] != 0) /* version 0 only */
		return;
	size_t off = NFLOG_HEADER;
	while (caplen - off >= 4) {
		uint8_t t;
		t = p[off], p[off] = p[off + 1], p[off + 1] = t;
		t = p[off + 2], p[off + 2] = p[off + 3], p[off + 3] = t;
		size_t size = ((size_t)p[off] | (size_t)p[off + 1] << 8);
		size = (size + 3) & ~(size_t)3;
		if (size < 4 || size > caplen - off)
			return;
		off += size;
	}
}

/* One block; 1 when it was a packet (in *pkt), 0 when not, -1 on damage. */
static int read_one(struct ssmf_pcapng *r, const uint8_t hdr[8], struct ssmf_packet *pkt, char *err,
                    size_t errlen)
{
	uint32_t type = get32(r, hdr);
	if (type == BT_SHB)
		return read_shb(r, hdr, err, errlen);
	if (r->stats_only && type != BT_IDB && type != BT_ISB) {
		uint32_t total = get32(r, hdr + 4);
		if (total < BLOCK_MIN || total % 4 != 0 || total > SSMF_PCAPNG_MAX_BLOCK)
			return fail(err, errlen, "bad block length");
		/* A seek is a system call each time (glibc): only for blocks larger
		 * than stdio's buffer; the others are read through it. */
		if (total > SKIP_BY_SEEK && fseek(r->f, (long)total - 8, SEEK_CUR) == 0)
			return 0;
		/* small, or not seekable (a decompressing stream): read it instead */
	}
	long n = read_block(r, hdr, NULL, 0, err, errlen);
	if (n < 0)
		return -1;
	size_t len = (size_t)n;
	const uint8_t *b = r->block;
	uint32_t id, caplen, wirelen;
	uint64_t ts;
	switch (type) {
	case BT_IDB:
		return on_idb(r, b, len, err, errlen);
	case BT_EPB:
	case BT_PB:
		if (len < 20)
			return fail(err, errlen, "packet block too short");
		id = type == BT_EPB ? get32(r, b) : get16(r, b);
		ts = (uint64_t)get32(r, b + 4) << 32 | get32(r, b + 8);
		caplen = get32(r, b + 12);
		wirelen = get32(r, b + 16);
		if (caplen > len - 20)
			return fail(err, errlen, "packet's captured length exceeds its block");
		if (packet_iface(r, id, err, errlen) != 0)
			return -1;
		pkt->ts_ns = to_ns(&r->ifs[id], ts);
		pkt->caplen = caplen;
		pkt->len = wirelen;
		pkt->linktype = r->ifs[id].linktype;
		pkt->data = b + 20;
		if (r->swapped && pkt->linktype == LINKTYPE_NFLOG)
			nflog_to_little_endian(r->block + 20, caplen);
		return 1;
	case BT_SPB:
		if (len < 4)
			return fail(err, errlen, "simple packet block too short");
		if (packet_iface(r, 0, err, errlen) != 0)
			return -1;
		wirelen = get32(r, b);
		caplen = wirelen < len - 4 ? wirelen : (uint32_t)(len - 4);
		if (r->ifs[0].snaplen && caplen > r->ifs[0].snaplen)
			caplen = r->ifs[0].snaplen;
		pkt->ts_ns = 0; /* a simple packet block carries no timestamp */
		pkt->caplen = caplen;
		pkt->len = wirelen;
		pkt->linktype = r->ifs[0].linktype;
		pkt->data = b + 4;
		if (r->swapped && pkt->linktype == LINKTYPE_NFLOG)
			nflog_to_little_endian(r->block + 4, caplen);
		return 1;
	case BT_ISB:
		return on_isb(r, b, len, err, errlen);
	default: /* name resolution, decryption secrets, custom blocks... */
		return 0;
	}
}

enum ssmf_capture_status ssmf_pcapng_next(struct ssmf_pcapng *r, struct ssmf_packet *pkt, char *err,
                                          size_t errlen)
{
	for (;;) {
		uint8_t hdr[8];
		size_t got = fread(hdr, 1, sizeof hdr, r->f);
		if (got == 0 && feof(r->f))
			return SSMF_CAPTURE_END;
		if (got != sizeof hdr) {
			fail(err, errlen, ferror(r->f) ? "read error" : "truncated block header");
			return SSMF_CAPTURE_DAMAGED;
		}
		int rc = read_one(r, hdr, pkt, err, errlen);
		if (rc < 0)
			return SSMF_CAPTURE_DAMAGED;
		if (rc == 1)
			return SSMF_CAPTURE_PACKET;
	}
}

uint64_t ssmf_pcapng_drops(const struct ssmf_pcapng *r, uint64_t *ifdrop, uint64_t *osdrop)
{
	*ifdrop = r->done_ifdrop;
	*osdrop = r->done_osdrop;
	for (size_t k = 0; k < r->nifs; k++) {
		*ifdrop += r->ifs[k].ifdrop;
		*osdrop += r->ifs[k].osdrop;
	}
	return r->isb_count;
}

void ssmf_pcapng_close(struct ssmf_pcapng *r)
{
	if (!r)
		return;
	free(r->ifs);
	free(r->block);
	free(r);
}

uint64_t ssmf_pcapng_read_stats(FILE *f, uint64_t *ifdrop, uint64_t *osdrop)
{
	char err[256];
	*ifdrop = *osdrop = 0;
	struct ssmf_pcapng *r = ssmf_pcapng_open(f, err, sizeof err);
	if (!r)
		return 0;
	r->stats_only = 1;
	struct ssmf_packet pkt;
	while (ssmf_pcapng_next(r, &pkt, err, sizeof err) == SSMF_CAPTURE_PACKET)
		;
	uint64_t n = ssmf_pcapng_drops(r, ifdrop, osdrop);
	ssmf_pcapng_close(r);
	return n;
}

/* The statistics of a pcapng file in memory: block headers walked in place. */
static uint64_t stats_in_memory(const uint8_t *p, size_t len, uint64_t *ifdrop, uint64_t *osdrop)
{
	struct ssmf_pcapng r = {0};
	char err[256];
	size_t pos = 0;
	while (len - pos >= BLOCK_MIN) {
		const uint8_t *h = p + pos;
		uint32_t type = get32(&r, h);
		if (type == BT_SHB) {
			uint32_t bom = (uint32_t)h[8] | (uint32_t)h[9] << 8 |
			               (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
			if (bom != BOM && __builtin_bswap32(bom) != BOM)
				break;
			r.swapped = bom != BOM;
			leave_section(&r);
		} else if (pos == 0) {
			break;
		}
		uint32_t total = get32(&r, h + 4);
		if (total < BLOCK_MIN || total % 4 != 0 || total > len - pos)
			break; /* damage: what was read so far counts */
		if ((type == BT_IDB && on_idb(&r, h + 8, total - 12, err, sizeof err) != 0) ||
		    (type == BT_ISB && on_isb(&r, h + 8, total - 12, err, sizeof err) != 0))
			break;
		pos += total;
	}
	uint64_t n = ssmf_pcapng_drops(&r, ifdrop, osdrop);
	free(r.ifs);
	return n;
}

uint64_t ssmf_pcapng_read_stats_file(const char *path, uint64_t *ifdrop, uint64_t *osdrop)
{
	*ifdrop = *osdrop = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return 0;
	}
	size_t len = (size_t)st.st_size;
	void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return 0;
	/* Mapped in one go (MAP_POPULATE): at common packet sizes every page holds a
	 * block header, and one populate costs less than a fault per page. */
	uint64_t n = stats_in_memory(map, len, ifdrop, osdrop);
	munmap(map, len);
	return n;
}
