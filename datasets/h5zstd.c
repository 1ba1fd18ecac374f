#include "datasets/h5zstd.h"

#include <stdlib.h>
#include <zstd.h>

static size_t zstd_filter(unsigned int flags, size_t cd_nelmts, const unsigned int cd_values[],
                          size_t nbytes, size_t *buf_size, void **buf)
{
	void *out;
	size_t n;
	if (flags & H5Z_FLAG_REVERSE) {
		unsigned long long size = ZSTD_getFrameContentSize(*buf, nbytes);
		/* Only frames that record their size are accepted: a corrupt
		 * header must not make us allocate what it claims. */
		if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
		    size > (1ull << 32))
			return 0;
		out = malloc(size ? (size_t)size : 1);
		if (!out)
			return 0;
		n = ZSTD_decompress(out, (size_t)size, *buf, nbytes);
		if (ZSTD_isError(n) || n != size) {
			free(out);
			return 0;
		}
	} else {
		int level = cd_nelmts > 0 ? (int)cd_values[0] : ZSTD_CLEVEL_DEFAULT;
		size_t bound = ZSTD_compressBound(nbytes);
		out = malloc(bound);
		if (!out)
			return 0;
		n = ZSTD_compress(out, bound, *buf, nbytes, level);
		if (ZSTD_isError(n)) {
			free(out);
			return 0;
		}
	}
	free(*buf);
	*buf = out;
	*buf_size = n;
	return n;
}

const H5Z_class2_t ssmf_h5z_zstd_class = {
    .version = H5Z_CLASS_T_VERS,
    .id = SSMF_H5Z_ZSTD_ID,
    .encoder_present = 1,
    .decoder_present = 1,
    .name = "Zstandard compression: http://www.zstd.net",
    .can_apply = NULL,
    .set_local = NULL,
    .filter = zstd_filter,
};

#ifndef SSMF_H5Z_PLUGIN /* the plugin is registered by the library that loads it */
int ssmf_h5zstd_register(void)
{
	if (H5Zfilter_avail(SSMF_H5Z_ZSTD_ID) > 0)
		return 0;
	return H5Zregister(&ssmf_h5z_zstd_class) < 0 ? -1 : 0;
}
#endif
