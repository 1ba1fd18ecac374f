/* checkpoint.c - versioned, checksummed checkpoint files, written atomically.
 *
 * Layout (little-endian):
 *   0   header, 64 bytes: magic "SSMFCKPT", u32 format version, u32 header size (64),
 *       u32 section count, u32 section entry size (32), u64 file size, u32 CRC32 of the
 *       header (this field zero) and the section table, zero padding
 *   64  section table: per section char name[8], u64 offset, u64 size, u32 CRC32, u32 flags
 *   ... section payloads, each at a 64-byte aligned offset
 * Sections: "CONFIG" (struct ckpt_config below) and "PARAMS" (the parameter buffer in
 * the table order of ssmf_param_table), then any extra sections a caller adds through
 * ssmf_checkpoint_save_sections (train/ adds optimizer state and metadata). Readers skip
 * sections they do not know, so extra sections need no new format version.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/atomic_file.h"
#include "common/read_file.h"
#include "ssm/internal.h"

#define CKPT_MAGIC        "SSMFCKPT"
#define CKPT_VERSION      1u
#define CKPT_HEADER       64u
#define CKPT_ENTRY        32u
#define CKPT_MAX_SECTIONS 64u
#define CKPT_MAX_BYTES    ((uint64_t)1 << 34)

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "checkpoints are written little-endian");

struct ckpt_config {
	uint32_t config_version;
	int32_t d_model, n_layer, d_state, expand, headdim;
	uint32_t record_version;
	uint32_t n_features;
	uint32_t real_size; /* bytes per parameter: 4 (float) or 8 (test builds) */
	uint32_t n_tensors;
	uint64_t n_params;
};

static uint32_t crc(const void *p, uint64_t n)
{
	uLong c = crc32(0L, Z_NULL, 0);
	const unsigned char *b = p;
	while (n) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		c = crc32(c, b, k);
		b += k;
		n -= k;
	}
	return (uint32_t)c;
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* One section to write: name (1..8 characters), payload. */
struct ckpt_out {
	const char *name;
	const void *data;
	uint64_t size;
};

static int valid_extra_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	return n >= 1 && n <= 8 && strcmp(name, "CONFIG") != 0 && strcmp(name, "PARAMS") != 0;
}

int ssmf_checkpoint_save_sections(const char *path, const struct ssmf_model *m,
                                  const struct ssmf_ckpt_section *extra, int n_extra, char *err,
                                  size_t errlen)
{
	struct ckpt_config cc = {
	    .config_version = SSMF_CONFIG_VERSION,
	    .d_model = m->cfg.d_model,
	    .n_layer = m->cfg.n_layer,
	    .d_state = m->cfg.d_state,
	    .expand = m->cfg.expand,
	    .headdim = m->cfg.headdim,
	    .record_version = SSMF_RECORD_VERSION,
	    .n_features = SSMF_N_FEATURES,
	    .real_size = sizeof(ssmf_real),
	    .n_tensors = (uint32_t)m->n_tensors,
	    .n_params = m->n_params,
	};
	if (n_extra < 0 || (uint32_t)n_extra > CKPT_MAX_SECTIONS - 2) {
		snprintf(err, errlen, "%s: %d extra sections, at most %u", path, n_extra,
		         CKPT_MAX_SECTIONS - 2);
		return -1;
	}
	struct ckpt_out sec[CKPT_MAX_SECTIONS];
	uint32_t nsec = 0;
	sec[nsec++] = (struct ckpt_out){"CONFIG", &cc, sizeof cc};
	sec[nsec++] =
	    (struct ckpt_out){"PARAMS", m->params, (uint64_t)m->n_params * sizeof(ssmf_real)};
	for (int i = 0; i < n_extra; i++) {
		if (!valid_extra_name(extra[i].name) || (extra[i].size && !extra[i].data)) {
			snprintf(err, errlen, "%s: invalid extra section '%s'", path,
			         extra[i].name ? extra[i].name : "(null)");
			return -1;
		}
		for (uint32_t j = 0; j < nsec; j++)
			if (!strcmp(sec[j].name, extra[i].name)) {
				snprintf(err, errlen, "%s: section %s given twice", path,
				         extra[i].name);
				return -1;
			}
		sec[nsec++] = (struct ckpt_out){extra[i].name, extra[i].data, extra[i].size};
	}
	/* header and table, then each payload at a 64-byte aligned offset */
	uint64_t table_end = CKPT_HEADER + (uint64_t)nsec * CKPT_ENTRY;
	uint64_t off[CKPT_MAX_SECTIONS];
	uint64_t total = (table_end + 63) & ~(uint64_t)63;
	for (uint32_t j = 0; j < nsec; j++) {
		off[j] = total;
		total = (off[j] + sec[j].size + 63) & ~(uint64_t)63;
	}
	/* the last payload is not padded: the file ends where it ends */
	total = off[nsec - 1] + sec[nsec - 1].size;
	unsigned char head[CKPT_HEADER + CKPT_MAX_SECTIONS * CKPT_ENTRY] = {0};
	memcpy(head, CKPT_MAGIC, 8);
	put32(head + 8, CKPT_VERSION);
	put32(head + 12, CKPT_HEADER);
	put32(head + 16, nsec);
	put32(head + 20, CKPT_ENTRY);
	put64(head + 24, total);
	for (uint32_t j = 0; j < nsec; j++) {
		unsigned char *e = head + CKPT_HEADER + (size_t)j * CKPT_ENTRY;
		memcpy(e, sec[j].name, strlen(sec[j].name));
		put64(e + 8, off[j]);
		put64(e + 16, sec[j].size);
		put32(e + 24, crc(sec[j].data, sec[j].size));
	}
	put32(head + 32, crc(head, table_end));

	struct ssmf_atomic_file f;
	if (ssmf_atomic_open(&f, path, err, errlen) != 0)
		return -1;
	unsigned char pad[64] = {0};
	ssmf_atomic_write(&f, head, (size_t)table_end);
	uint64_t at = table_end;
	for (uint32_t j = 0; j < nsec; j++) {
		ssmf_atomic_write(&f, pad, (size_t)(off[j] - at));
		ssmf_atomic_write(&f, sec[j].data, (size_t)sec[j].size);
		at = off[j] + sec[j].size;
	}
	return ssmf_atomic_commit(&f, err, errlen);
}

int ssmf_checkpoint_save(const char *path, const struct ssmf_model *m, char *err, size_t errlen)
{
	return ssmf_checkpoint_save_sections(path, m, NULL, 0, err, errlen);
}

/* Validates and loads a checkpoint held in buf (n bytes, malloc'd; freed here). `path`
 * names it in messages. */
static struct ssmf_model *load_buffer(const char *path, unsigned char *buf, uint64_t n,
                                      struct ssmf_ckpt_section *want, int n_want, char *err,
                                      size_t errlen)
{
	struct ssmf_model *m = NULL;
#define FAIL(...)                                                                                  \
	do {                                                                                       \
		int k_ = snprintf(err, errlen, "%s: ", path);                                      \
		if (k_ >= 0 && (size_t)k_ < errlen)                                                \
			snprintf(err + k_, errlen - (size_t)k_, __VA_ARGS__);                      \
		goto fail;                                                                         \
	} while (0)
	if (n < CKPT_HEADER)
		FAIL("truncated: %llu bytes, a checkpoint header needs %u", (unsigned long long)n,
		     CKPT_HEADER);
	if (memcmp(buf, CKPT_MAGIC, 8) != 0)
		FAIL("not an ssmflow checkpoint (bad magic)");
	uint32_t ver = get32(buf + 8), hsz = get32(buf + 12), nsec = get32(buf + 16),
	         esz = get32(buf + 20);
	if (ver != CKPT_VERSION)
		FAIL("checkpoint format version %u, this build reads version %u", ver,
		     CKPT_VERSION);
	if (hsz != CKPT_HEADER || esz != CKPT_ENTRY || nsec == 0 || nsec > CKPT_MAX_SECTIONS)
		FAIL("corrupt header (header size %u, entry size %u, %u sections)", hsz, esz, nsec);
	uint64_t fsz = get64(buf + 24);
	if (fsz != n)
		FAIL("%s: header says %llu bytes, the file has %llu",
		     fsz > n ? "truncated" : "trailing data", (unsigned long long)fsz,
		     (unsigned long long)n);
	uint64_t table_end = (uint64_t)CKPT_HEADER + (uint64_t)nsec * CKPT_ENTRY;
	if (table_end > n)
		FAIL("truncated: the section table ends at byte %llu",
		     (unsigned long long)table_end);
	uint32_t hcrc = get32(buf + 32);
	put32(buf + 32, 0);
	if (crc(buf, table_end) != hcrc)
		FAIL("header checksum mismatch (the file is corrupt)");
	const unsigned char *cfg_p = NULL, *par_p = NULL;
	uint64_t cfg_n = 0, par_n = 0;
	for (uint32_t s = 0; s < nsec; s++) {
		const unsigned char *e = buf + CKPT_HEADER + (size_t)s * CKPT_ENTRY;
		char name[9] = {0};
		memcpy(name, e, 8);
		uint64_t off = get64(e + 8), size = get64(e + 16);
		if (off > n || size > n - off)
			FAIL("section %s (bytes %llu..+%llu) lies outside the file", name,
			     (unsigned long long)off, (unsigned long long)size);
		if (off < table_end)
			FAIL("section %s overlaps the header", name);
		if (crc(buf + off, size) != get32(e + 24))
			FAIL("section %s checksum mismatch (the file is corrupt)", name);
		if (!strcmp(name, "CONFIG")) {
			cfg_p = buf + off;
			cfg_n = size;
		} else if (!strcmp(name, "PARAMS")) {
			par_p = buf + off;
			par_n = size;
		}
		for (int w = 0; w < n_want; w++) {
			if (strcmp(name, want[w].name) != 0)
				continue;
			if (want[w].data)
				FAIL("section %s appears twice", name);
			want[w].data = malloc(size ? size : 1);
			if (!want[w].data)
				FAIL("out of memory");
			memcpy(want[w].data, buf + off, size);
			want[w].size = size;
		}
	}
	if (!cfg_p || !par_p)
		FAIL("missing %s section", cfg_p ? "PARAMS" : "CONFIG");
	if (cfg_n != sizeof(struct ckpt_config))
		FAIL("CONFIG section has %llu bytes, expected %zu", (unsigned long long)cfg_n,
		     sizeof(struct ckpt_config));
	struct ckpt_config cc;
	memcpy(&cc, cfg_p, sizeof cc);
	if (cc.config_version != SSMF_CONFIG_VERSION)
		FAIL("config version %u, this build reads %u", cc.config_version,
		     SSMF_CONFIG_VERSION);
	if (cc.record_version != SSMF_RECORD_VERSION)
		FAIL("trained on record version %u, this build has record version %u",
		     cc.record_version, SSMF_RECORD_VERSION);
	if (cc.n_features != SSMF_N_FEATURES)
		FAIL("model has %u input features, this build %u", cc.n_features, SSMF_N_FEATURES);
	if (cc.real_size != sizeof(ssmf_real))
		FAIL("parameters are %u-byte floats, this build uses %zu-byte", cc.real_size,
		     sizeof(ssmf_real));
	struct ssmf_config cfg = {cc.d_model, cc.n_layer, cc.d_state, cc.expand, cc.headdim};
	char why[200];
	if (ssmf_config_validate(&cfg, why, sizeof why) < 0)
		FAIL("invalid config: %s", why);
	/* Size check before allocating: a valid config can need hundreds of GB, and a
	 * small hostile file must not make us ask for them. */
	struct ssmf_dims dims;
	size_t want_params = 0;
	ssmf_config_dims(&cfg, &dims);
	int want_tensors = ssmf_param_table(&dims, NULL, &want_params);
	if (cc.n_params != want_params || cc.n_tensors != (uint32_t)want_tensors ||
	    par_n != (uint64_t)want_params * sizeof(ssmf_real))
		FAIL("PARAMS holds %llu bytes, the config needs %zu parameters",
		     (unsigned long long)par_n, want_params);
	m = ssmf_model_alloc(&cfg, why, sizeof why);
	if (!m)
		FAIL("%s", why);
	if (cc.n_params != m->n_params || (uint64_t)m->n_tensors != cc.n_tensors ||
	    par_n != (uint64_t)m->n_params * sizeof(ssmf_real))
		FAIL("PARAMS holds %llu bytes, the config needs %zu parameters",
		     (unsigned long long)par_n, m->n_params);
	memcpy(m->params, par_p, (size_t)par_n);
	for (size_t i = 0; i < m->n_params; i++)
		if (!isfinite(m->params[i]))
			FAIL("parameter %zu is not finite", i);
	free(buf);
	return m;
fail:
#undef FAIL
	for (int w = 0; w < n_want; w++) {
		free(want[w].data);
		want[w].data = NULL;
		want[w].size = 0;
	}
	ssmf_model_free(m);
	free(buf);
	return NULL;
}

struct ssmf_model *ssmf_checkpoint_load_sections(const char *path, struct ssmf_ckpt_section *want,
                                                 int n_want, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	uint64_t n = 0;
	for (int w = 0; w < n_want; w++) {
		want[w].data = NULL;
		want[w].size = 0;
	}
	if (ssmf_read_file(path, CKPT_MAX_BYTES, "a checkpoint", &buf, &n, err, errlen) < 0)
		return NULL;
	return load_buffer(path, buf, n, want, n_want, err, errlen);
}

struct ssmf_model *ssmf_checkpoint_load_mem_sections(const char *name, const void *data,
                                                     size_t len, struct ssmf_ckpt_section *want,
                                                     int n_want, char *err, size_t errlen)
{
	for (int w = 0; w < n_want; w++) {
		want[w].data = NULL;
		want[w].size = 0;
	}
	unsigned char *buf = malloc(len ? len : 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	memcpy(buf, data, len);
	return load_buffer(name, buf, len, want, n_want, err, errlen);
}

struct ssmf_model *ssmf_checkpoint_load_mem(const char *name, const void *data, size_t len,
                                            char *err, size_t errlen)
{
	return ssmf_checkpoint_load_mem_sections(name, data, len, NULL, 0, err, errlen);
}

struct ssmf_model *ssmf_checkpoint_load(const char *path, char *err, size_t errlen)
{
	return ssmf_checkpoint_load_sections(path, NULL, 0, err, errlen);
}
