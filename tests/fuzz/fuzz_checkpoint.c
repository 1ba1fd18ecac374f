/* fuzz_checkpoint.c - the checkpoint loader (ssmf_checkpoint_load) on hostile
 * files.
 *
 * Every section and the header carry a CRC32, which random mutations almost
 * never get right; so before loading, the target recomputes the CRCs of a
 * copy of the input wherever the header and section table let it, and the
 * loader's validation behind the checksums is what gets fuzzed. An input whose
 * byte 63 (header padding) is 0x5a is loaded as given, to keep the checksum
 * paths covered too.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ssm/ssm.h"
#include "tests/fuzz/fuzz.h"

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t crc(const uint8_t *p, uint64_t n)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* Layout as in ssm/checkpoint.c: 64-byte header, 32-byte section entries. */
static void fix_checksums(uint8_t *b, size_t n)
{
	if (n < 64 || b[63] == 0x5a)
		return;
	uint32_t nsec = get32(b + 16);
	if (nsec > 64 || 64 + (uint64_t)nsec * 32 > n)
		return;
	for (uint32_t s = 0; s < nsec; s++) {
		uint8_t *e = b + 64 + (size_t)s * 32;
		uint64_t off = get64(e + 8), size = get64(e + 16);
		if (off <= n && size <= n - off)
			put32(e + 24, crc(b + off, size));
	}
	put32(b + 32, 0);
	put32(b + 32, crc(b, 64 + (uint64_t)nsec * 32));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fix_checksums(copy, size);
	char path[64], err[512] = "";
	int fd = fuzz_memfile(copy, size, path, sizeof path);
	free(copy);
	if (fd < 0)
		return 0;
	struct ssmf_model *m = ssmf_checkpoint_load(path, err, sizeof err);
	if (m) {
		const struct ssmf_config *cfg = ssmf_model_config(m);
		char why[256];
		FUZZ_CHECK(ssmf_config_validate(cfg, why, sizeof why) == 0);
		/* the loaded model must be usable: one step of one flow */
		size_t ns = ssmf_step_state_size(m);
		ssmf_real *state = calloc(ns, sizeof *state);
		struct ssmf_step_ws *ws = ssmf_step_ws_new(m, 1, why, sizeof why);
		if (state && ws) {
			ssmf_step_state_reset(m, state);
			struct ssmf_record r = {.ts_ns = 1, .ip_len = 60, .ip_proto = 6};
			ssmf_real nll[SSMF_N_COMP];
			FUZZ_CHECK(ssmf_step(m, ws, &state, &r, 1, nll, NULL, why, sizeof why) ==
			           0);
		}
		ssmf_step_ws_free(ws);
		free(state);
		ssmf_model_free(m);
	} else {
		FUZZ_CHECK(err[0] != 0 && strstr(err, path) == err);
	}
	close(fd);
	return 0;
}
