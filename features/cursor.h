/* cursor.h - bounds-checked reads of packet bytes.
 *
 * Every read of packet memory goes through these accessors (tcpdump's GET_U_1
 * idea): a cursor is a pointer and the bytes left, and a read past the end
 * fails instead of touching memory beyond the captured length.
 */
#ifndef SSMF_CURSOR_H
#define SSMF_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t left;
};

static inline int cur_has(const struct cursor *c, size_t n)
{
	return c->left >= n;
}

/* Big-endian (network order) reads at `off` bytes from the cursor, without moving it. */
static inline int cur_peek_u8(const struct cursor *c, size_t off, uint8_t *v)
{
	if (c->left < off + 1)
		return 0;
	*v = c->p[off];
	return 1;
}

static inline int cur_peek_be16(const struct cursor *c, size_t off, uint16_t *v)
{
	if (c->left < off + 2)
		return 0;
	*v = (uint16_t)(c->p[off] << 8 | c->p[off + 1]);
	return 1;
}

static inline int cur_peek_le16(const struct cursor *c, size_t off, uint16_t *v)
{
	if (c->left < off + 2)
		return 0;
	*v = (uint16_t)(c->p[off + 1] << 8 | c->p[off]);
	return 1;
}

static inline int cur_peek_be32(const struct cursor *c, size_t off, uint32_t *v)
{
	if (c->left < off + 4)
		return 0;
	*v = (uint32_t)c->p[off] << 24 | (uint32_t)c->p[off + 1] << 16 |
	     (uint32_t)c->p[off + 2] << 8 | c->p[off + 3];
	return 1;
}

static inline int cur_peek_le32(const struct cursor *c, size_t off, uint32_t *v)
{
	if (c->left < off + 4)
		return 0;
	*v = (uint32_t)c->p[off + 3] << 24 | (uint32_t)c->p[off + 2] << 16 |
	     (uint32_t)c->p[off + 1] << 8 | c->p[off];
	return 1;
}

static inline int cur_peek_bytes(const struct cursor *c, size_t off, void *dst, size_t n)
{
	if (c->left < off + n)
		return 0;
	memcpy(dst, c->p + off, n); /* n is a constant at every call: a move or two */
	return 1;
}

static inline int cur_skip(struct cursor *c, size_t n)
{
	if (c->left < n)
		return 0;
	c->p += n;
	c->left -= n;
	return 1;
}

#endif
