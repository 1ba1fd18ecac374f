/* test_atomic_file.c - the one output writer (common/atomic_file.h) through its three ways
 * in (fd, stdio stream, a name reserved for a library that creates the file itself), and
 * the whole-file reader (common/read_file.h). The oracle is the file system: what the
 * directory lists and what the files hold, read back with stdio. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/read_file.h"
#include "tests/unit/check.h"

/* Entries of dir other than . and .., and whether one is `name`. */
static int count_entries(const char *dir, const char *name, int *has)
{
	DIR *d = opendir(dir);
	int n = 0;
	*has = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		*has |= name && !strcmp(e->d_name, name);
	}
	if (d)
		closedir(d);
	return n;
}

static int holds(const char *path, const char *want)
{
	char buf[256] = "";
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	return n == strlen(want) && memcmp(buf, want, n) == 0;
}

int main(void)
{
	char dir[] = "/tmp/ssmf-atomic-XXXXXX", path[512], err[512];
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/out.bin", dir);
	int has;

	/* fd: the temporary is beside the final name while open, gone after commit */
	struct ssmf_atomic_file f;
	CHECK(ssmf_atomic_open(&f, path, err, sizeof err) == 0);
	CHECK(strncmp(f.tmp, path, strlen(path)) == 0 && strstr(f.tmp, ".tmp."));
	CHECK_EQ(count_entries(dir, NULL, &has), 1);
	CHECK(ssmf_atomic_write(&f, "abc", 3) == 0);
	CHECK(ssmf_atomic_commit(&f, err, sizeof err) == 0);
	CHECK_EQ(count_entries(dir, "out.bin", &has), 1);
	CHECK(has && holds(path, "abc"));

	/* stream: replaces the previous file whole; abort leaves the previous file alone */
	CHECK(ssmf_atomic_fopen(&f, path, err, sizeof err) == 0);
	fputs("partial", f.fp);
	ssmf_atomic_abort(&f);
	CHECK_EQ(count_entries(dir, "out.bin", &has), 1);
	CHECK(holds(path, "abc"));
	CHECK(ssmf_atomic_fopen(&f, path, err, sizeof err) == 0);
	fputs("stream", f.fp);
	CHECK(ssmf_atomic_commit(&f, err, sizeof err) == 0);
	CHECK(holds(path, "stream"));

	/* a failed write is reported by commit, which leaves nothing new */
	CHECK(ssmf_atomic_fopen(&f, path, err, sizeof err) == 0);
	fputs("never", f.fp);
	f.failed_errno = ENOSPC; /* as a caller that saw it would set */
	err[0] = 0;
	CHECK(ssmf_atomic_commit(&f, err, sizeof err) == -1);
	CHECK(strstr(err, path) != NULL);
	CHECK_EQ(count_entries(dir, "out.bin", &has), 1);
	CHECK(holds(path, "stream"));

	/* reserved: another writer creates the temporary; commit syncs and renames it */
	CHECK(ssmf_atomic_reserve(&f, path, err, sizeof err) == 0);
	CHECK_EQ(count_entries(dir, NULL, &has), 1);
	FILE *other = fopen(f.tmp, "wb");
	CHECK(other != NULL);
	if (other) {
		fputs("hdf5", other);
		fclose(other);
	}
	CHECK(ssmf_atomic_commit(&f, err, sizeof err) == 0);
	CHECK_EQ(count_entries(dir, "out.bin", &has), 1);
	CHECK(holds(path, "hdf5"));

	/* a directory that does not exist: one error naming the output */
	char missing[600];
	snprintf(missing, sizeof missing, "%s/no/such.bin", dir);
	CHECK(ssmf_atomic_open(&f, missing, err, sizeof err) == -1);
	CHECK(strncmp(err, missing, strlen(missing)) == 0);

	/* the whole-file reader: contents, the size bound, not a regular file */
	unsigned char *buf = NULL;
	uint64_t len = 0;
	CHECK(ssmf_read_file(path, 4, "a test file", &buf, &len, err, sizeof err) == 0);
	CHECK(len == 4 && buf && memcmp(buf, "hdf5", 4) == 0);
	free(buf);
	CHECK(ssmf_read_file(path, 3, "a test file", &buf, &len, err, sizeof err) == -1);
	CHECK(strstr(err, "4 bytes is too large for a test file") != NULL);
	CHECK(ssmf_read_file(dir, 1 << 20, "a test file", &buf, &len, err, sizeof err) == -1);
	CHECK(strstr(err, "not a regular file") != NULL);

	unlink(path);
	rmdir(dir);
	return check_report("atomic_file");
}
