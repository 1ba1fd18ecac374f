#include "pcapio/instream.h"

#include "pcapio/hasher.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define RAW_BUF_SIZE (1u << 20)
#define RAW_BUFS     4 /* read into one while the hasher works through the others */

struct ssmf_instream {
	int fd;
	int own_fd;
	FILE *file; /* fopencookie stream over this struct */
	enum ssmf_compression comp;
	uint8_t *bufs[RAW_BUFS];
	uint64_t ticket[RAW_BUFS]; /* the hasher's ticket for each buffer's last bytes */
	int cur;
	uint8_t *raw;   /* the current raw input buffer, bufs[cur] */
	size_t raw_len; /* valid bytes in raw */
	size_t raw_pos; /* consumed bytes in raw */
	int raw_eof;
	int direct; /* a plain regular file: libpcap reads it itself, the hasher beside it */
	uint64_t raw_total;
	struct ssmf_hasher *hasher;
	z_stream gz;
	int gz_ready;
	int gz_end; /* saw the end of a gzip member */
	ZSTD_DStream *zs;
	uint8_t head[4]; /* first decompressed bytes: the capture format's magic */
	size_t head_len;
	char error[160];
};

/* Moves to the next raw buffer once the current one is used up and reads into
 * it; returns bytes available. */
static size_t raw_fill(struct ssmf_instream *in)
{
	if (in->raw_pos < in->raw_len)
		return in->raw_len - in->raw_pos;
	in->raw_pos = in->raw_len = 0;
	if (in->raw_eof)
		return 0;
	in->cur = (in->cur + 1) % RAW_BUFS;
	in->raw = in->bufs[in->cur];
	ssmf_hasher_wait(in->hasher, in->ticket[in->cur]);
	ssize_t n = read(in->fd, in->raw, RAW_BUF_SIZE);
	/* EINTR is an error too: the signals we catch ask us to stop. */
	if (n < 0) {
		snprintf(in->error, sizeof in->error, "read error: %s", strerror(errno));
		in->raw_eof = 1;
		return 0;
	}
	if (n == 0) {
		in->raw_eof = 1;
		return 0;
	}
	in->raw_len = (size_t)n;
	in->raw_total += (uint64_t)n;
	in->ticket[in->cur] = ssmf_hasher_update(in->hasher, in->raw, (size_t)n);
	return in->raw_len;
}

static ssize_t read_plain(struct ssmf_instream *in, char *buf, size_t size)
{
	size_t avail = raw_fill(in);
	if (avail == 0)
		return 0;
	size_t n = avail < size ? avail : size;
	memcpy(buf, in->raw + in->raw_pos, n);
	in->raw_pos += n;
	return (ssize_t)n;
}

static ssize_t read_gzip(struct ssmf_instream *in, char *buf, size_t size)
{
	in->gz.next_out = (Bytef *)buf;
	in->gz.avail_out = (uInt)size;
	while (in->gz.avail_out == size) {
		size_t avail = raw_fill(in);
		if (avail == 0) {
			if (!in->gz_end && !in->error[0])
				snprintf(in->error, sizeof in->error, "gzip stream ends early");
			break;
		}
		if (in->gz_end) { /* concatenated gzip members */
			inflateReset(&in->gz);
			in->gz_end = 0;
		}
		in->gz.next_in = in->raw + in->raw_pos;
		in->gz.avail_in = (uInt)avail;
		int rc = inflate(&in->gz, Z_NO_FLUSH);
		in->raw_pos += avail - in->gz.avail_in;
		if (rc == Z_STREAM_END) {
			in->gz_end = 1;
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			snprintf(in->error, sizeof in->error, "gzip data is corrupt: %s",
			         in->gz.msg ? in->gz.msg : "inflate failed");
			break;
		}
	}
	return (ssize_t)(size - in->gz.avail_out);
}

static ssize_t read_zstd(struct ssmf_instream *in, char *buf, size_t size)
{
	ZSTD_outBuffer out = {buf, size, 0};
	size_t last = 0;
	while (out.pos == 0) {
		size_t avail = raw_fill(in);
		if (avail == 0) {
			if (last != 0 && !in->error[0])
				snprintf(in->error, sizeof in->error, "zstd stream ends early");
			break;
		}
		ZSTD_inBuffer zin = {in->raw + in->raw_pos, avail, 0};
		last = ZSTD_decompressStream(in->zs, &out, &zin);
		in->raw_pos += zin.pos;
		if (ZSTD_isError(last)) {
			snprintf(in->error, sizeof in->error, "zstd data is corrupt: %s",
			         ZSTD_getErrorName(last));
			break;
		}
	}
	return (ssize_t)out.pos;
}

static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
	struct ssmf_instream *in = cookie;
	if (in->error[0])
		return 0; /* libpcap sees a short read and reports truncation */
	ssize_t n;
	switch (in->comp) {
	case SSMF_COMP_GZIP:
		n = read_gzip(in, buf, size);
		break;
	case SSMF_COMP_ZSTD:
		n = read_zstd(in, buf, size);
		break;
	default:
		n = read_plain(in, buf, size);
		break;
	}
	for (ssize_t i = 0; i < n && in->head_len < sizeof in->head; i++)
		in->head[in->head_len++] = (uint8_t)buf[i];
	return n;
}

int ssmf_instream_is_pcapng(const struct ssmf_instream *in)
{
	static const uint8_t shb[4] = {0x0a, 0x0d, 0x0d, 0x0a};
	return in->head_len == 4 && memcmp(in->head, shb, 4) == 0;
}

static int cookie_close(void *cookie)
{
	(void)cookie;
	return 0;
}

/* libpcap reads each packet with two freads. The stream is only ever used by
 * the thread that reads the capture, so stdio's per-call lock (an atomic
 * read-modify-write, twice per fread once the process has threads) is left out.
 * The buffer stays in L2 (32 KiB), so the kernel's copy into it and libpcap's out of
 * it hit the cache (256 KiB cost more CPU, bench/README.md). */
static void stream_setup(FILE *f)
{
	setvbuf(f, NULL, _IOFBF, 1u << 15);
	__fsetlocking(f, FSETLOCKING_BYCALLER);
}

struct ssmf_instream *ssmf_instream_open(const char *path, char *err, size_t errlen)
{
	struct ssmf_instream *in = calloc(1, sizeof *in);
	if (!in) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	in->fd = -1;
	for (int i = 0; i < RAW_BUFS; i++)
		if (!(in->bufs[i] = malloc(RAW_BUF_SIZE)))
			break;
	in->raw = in->bufs[0];
	in->hasher = ssmf_hasher_new();
	if (!in->bufs[RAW_BUFS - 1] || !in->hasher) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (strcmp(path, "-") == 0) {
		in->fd = STDIN_FILENO;
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
			goto fail;
		}
		in->own_fd = 1;
	}
	/* Sniff the compression from the first bytes; they stay in the buffer. */
	while (in->raw_len < 4 && !in->raw_eof) {
		ssize_t n = read(in->fd, in->raw + in->raw_len, RAW_BUF_SIZE - in->raw_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			in->raw_eof = 1;
		in->ticket[0] = ssmf_hasher_update(in->hasher, in->raw + in->raw_len, (size_t)n);
		in->raw_len += (size_t)n;
		in->raw_total += (uint64_t)n;
	}
	const uint8_t *m = in->raw;
	if (in->raw_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
		in->comp = SSMF_COMP_GZIP;
		if (inflateInit2(&in->gz, 16 + MAX_WBITS) != Z_OK) {
			snprintf(err, errlen, "%s: cannot start gzip decoder", path);
			goto fail;
		}
		in->gz_ready = 1;
	} else if (in->raw_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f &&
	           m[3] == 0xfd) {
		in->comp = SSMF_COMP_ZSTD;
		in->zs = ZSTD_createDStream();
		if (!in->zs) {
			snprintf(err, errlen, "%s: cannot start zstd decoder", path);
			goto fail;
		}
	}
	/* A plain regular file needs no layer between it and libpcap: one copy
	 * less per byte, and the hasher reads the file on its own thread. */
	struct stat st;
	if (in->comp == SSMF_COMP_NONE && fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    lseek(in->fd, 0, SEEK_SET) == 0) {
		int fd2 = dup(in->fd);
		in->file = fd2 >= 0 ? fdopen(fd2, "r") : NULL;
		if (!in->file) {
			if (fd2 >= 0)
				close(fd2);
			snprintf(err, errlen, "%s: cannot open stream: %s", path, strerror(errno));
			goto fail;
		}
		for (size_t i = 0; i < in->raw_len && i < sizeof in->head; i++)
			in->head[in->head_len++] = in->raw[i];
		ssmf_hasher_free(in->hasher);
		in->hasher = ssmf_hasher_new();
		if (!in->hasher) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		ssmf_hasher_file(in->hasher, in->fd);
		in->direct = 1;
		in->raw_eof = 1;
		stream_setup(in->file);
		return in;
	}
	cookie_io_functions_t io = {.read = cookie_read, .close = cookie_close};
	in->file = fopencookie(in, "r", io);
	if (!in->file) {
		snprintf(err, errlen, "%s: cannot open stream: %s", path, strerror(errno));
		goto fail;
	}
	stream_setup(in->file);
	return in;
fail:
	ssmf_instream_close(in);
	return NULL;
}

FILE *ssmf_instream_take_file(struct ssmf_instream *in)
{
	FILE *f = in->file;
	in->file = NULL;
	return f;
}

enum ssmf_compression ssmf_instream_compression(const struct ssmf_instream *in)
{
	return in->comp;
}

const char *ssmf_instream_error(const struct ssmf_instream *in)
{
	return in->error[0] ? in->error : NULL;
}

void ssmf_instream_drain(struct ssmf_instream *in)
{
	while (!in->raw_eof) {
		in->raw_pos = in->raw_len;
		raw_fill(in);
	}
}

uint64_t ssmf_instream_raw_bytes(struct ssmf_instream *in)
{
	if (in->direct) {
		uint8_t digest[32];
		ssmf_hasher_final(in->hasher, digest); /* the size is known once hashed */
		return ssmf_hasher_bytes(in->hasher);
	}
	return in->raw_total;
}

int ssmf_instream_is_direct(const struct ssmf_instream *in)
{
	return in->direct;
}

uint64_t ssmf_instream_raw_bytes_so_far(const struct ssmf_instream *in)
{
	return in->raw_total;
}

void ssmf_instream_sha256_hex(struct ssmf_instream *in, char out[65])
{
	uint8_t digest[32];
	ssmf_hasher_final(in->hasher, digest);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

void ssmf_instream_close(struct ssmf_instream *in)
{
	if (!in)
		return;
	if (in->file)
		fclose(in->file); /* the cookie's close does nothing */
	if (in->own_fd && in->fd >= 0)
		close(in->fd);
	if (in->gz_ready)
		inflateEnd(&in->gz);
	ZSTD_freeDStream(in->zs);
	ssmf_hasher_free(in->hasher); /* joins: no range it reads is freed under it */
	for (int i = 0; i < RAW_BUFS; i++)
		free(in->bufs[i]);
	free(in);
}
