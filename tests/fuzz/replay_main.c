/* replay_main.c - runs a fuzz target's entry point over files, without
 * libFuzzer: how the normal build (and the ASan build) replays regression
 * inputs. Arguments are files or directories (every regular file inside). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	size_t r;
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			uint8_t *b = realloc(buf, cap *= 2);
			if (!b)
				free(buf);
			buf = b;
		}
	}
	fclose(f);
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", path);
		return -1;
	}
	/* An exact-size copy, so ASan sees a read one past the input's end. */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

static int compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	int files = 0, bad = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= replay_file(argv[i]) != 0;
			files++;
			continue;
		}
		struct dirent **names;
		int n = scandir(argv[i], &names, NULL, NULL);
		if (n < 0) {
			perror(argv[i]);
			return 2;
		}
		char **paths = calloc((size_t)n + 1, sizeof *paths);
		int np = 0;
		for (int k = 0; k < n; k++) {
			if (names[k]->d_name[0] != '.') {
				size_t len = strlen(argv[i]) + strlen(names[k]->d_name) + 2;
				if (paths && (paths[np] = malloc(len)))
					snprintf(paths[np++], len, "%s/%s", argv[i],
					         names[k]->d_name);
			}
			free(names[k]);
		}
		free(names);
		if (!paths)
			return 2;
		qsort(paths, (size_t)np, sizeof *paths, compare);
		for (int k = 0; k < np; k++) {
			if (stat(paths[k], &st) == 0 && S_ISREG(st.st_mode)) {
				bad |= replay_file(paths[k]) != 0;
				files++;
			}
			free(paths[k]);
		}
		free(paths);
	}
	printf("replayed %d input(s)\n", files);
	return bad ? 1 : 0;
}
