/* fuzz_safetensors.c - the safetensors reader (export/st_read.c), which `info`
 * and the bundle consumer face: the input is a whole file, in a memfd. On
 * success the tensors must tile the data buffer inside the file, and the
 * aligned-layout check and metadata lookups must run on what was read. */
#include <string.h>
#include <unistd.h>

#include "export/safetensors.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024] = "";
	int fd = fuzz_memfile(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct ssmf_st_file f;
	if (ssmf_st_read(path, &f, err, sizeof err) != 0) {
		FUZZ_CHECK(err[0] != 0 && memchr(err, 0, sizeof err) && !strchr(err, '\n'));
		ssmf_st_free(&f);
		close(fd);
		return 0;
	}
	FUZZ_CHECK(f.size == size && f.data_start == 8 + f.header_len && f.data_start <= size);
	uint64_t at = 0;
	for (int i = 0; i < f.n; i++) {
		const struct ssmf_st_tensor *t = &f.t[i];
		FUZZ_CHECK(t->begin == at && t->end >= t->begin);
		FUZZ_CHECK(t->end <= size - f.data_start);
		FUZZ_CHECK(t->dtype >= 0 && t->dtype < SSMF_ST_NDTYPES);
		FUZZ_CHECK(t->ndim >= 0 && t->ndim <= SSMF_ST_MAX_DIMS);
		FUZZ_CHECK(memchr(t->name, 0, sizeof t->name) != NULL);
		uint64_t elems = 1;
		for (int k = 0; k < t->ndim; k++)
			elems *= t->shape[k];
		FUZZ_CHECK(elems * (uint64_t)ssmf_st_dtype_size(t->dtype) == t->end - t->begin);
		at = t->end;
	}
	FUZZ_CHECK(at == size - f.data_start);
	err[0] = 0;
	if (ssmf_st_check_aligned(&f, err, sizeof err) != 0)
		FUZZ_CHECK(err[0] != 0);
	(void)ssmf_st_meta(&f, "format");
	ssmf_st_free(&f);
	close(fd);
	return 0;
}
