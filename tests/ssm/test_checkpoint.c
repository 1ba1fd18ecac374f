/* test_checkpoint.c - save/load round trip; every kind of damage gives a clear error.
 * Usage: ssm_test_checkpoint DIR (a scratch directory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssm/ssm.h"

static int g_fail;

static void expect(int ok, const char *what, const char *detail)
{
	printf("%-52s %s%s%s\n", what, ok ? "ok" : "FAIL", detail ? "  " : "",
	       detail ? detail : "");
	g_fail |= !ok;
}

static unsigned char *slurp(const char *path, long *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)*n);
	if (fread(b, 1, (size_t)*n, f) != (size_t)*n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static void spit(const char *path, const unsigned char *b, long n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(b, 1, (size_t)n, f);
		fclose(f);
	}
}

/* A damaged file must fail to load with a message naming the file. */
static void expect_reject(const char *path, const char *what, const char *needle)
{
	char err[512] = "";
	struct ssmf_model *m = ssmf_checkpoint_load(path, err, sizeof err);
	int ok = !m && strstr(err, path) && (!needle || strstr(err, needle));
	expect(ok, what, err);
	ssmf_model_free(m);
}

int main(int argc, char **argv)
{
	char err[512], path[1024], bad[1100];
	if (argc != 2)
		return 2;
	snprintf(path, sizeof path, "%s/model.ckpt", argv[1]);
	snprintf(bad, sizeof bad, "%s/damaged.ckpt", argv[1]);
	struct ssmf_config cfg;
	ssmf_config_default(&cfg);
	cfg.d_model = 32;
	cfg.n_layer = 3;
	struct ssmf_model *m = ssmf_model_new(&cfg, 9, err, sizeof err);
	if (!m || ssmf_checkpoint_save(path, m, err, sizeof err) < 0) {
		printf("%s\n", err);
		return 1;
	}
	struct ssmf_model *r = ssmf_checkpoint_load(path, err, sizeof err);
	expect(r != NULL, "round trip loads", r ? NULL : err);
	if (!r)
		return 1;
	expect(!memcmp(ssmf_model_config(r), ssmf_model_config(m), sizeof cfg), "config equal",
	       NULL);
	expect(ssmf_model_num_params(r) == ssmf_model_num_params(m) &&
	           !memcmp(ssmf_model_params(r), ssmf_model_params(m),
	                   ssmf_model_num_params(m) * sizeof(ssmf_real)),
	       "parameters bit-identical", NULL);
	ssmf_model_free(r);
	char tmpname[1100];
	snprintf(tmpname, sizeof tmpname, "%s.tmp.%ld", path, (long)getpid());
	expect(access(tmpname, F_OK) != 0, "no temporary file left behind", NULL);

	long n = 0;
	unsigned char *b = slurp(path, &n);
	if (!b)
		return 1;
	expect_reject("/nonexistent/dir/x.ckpt", "missing file", "cannot open");
	/* truncations at every interesting length and a sweep */
	long cuts[] = {0, 1, 8, 40, 63, 64, 100, 127, 128, 150, 200, n / 2, n - 1};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		spit(bad, b, cuts[i]);
		char what[64];
		snprintf(what, sizeof what, "truncated to %ld bytes", cuts[i]);
		expect_reject(bad, what, "truncated");
	}
	/* one flipped bit anywhere is caught by a CRC or a check */
	long pos[] = {0,  9,  13, 17,  21,  25,  33,  64,    72,
	              80, 88, 96, 104, 128, 140, 192, n / 2, n - 1};
	for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
		b[pos[i]] ^= 0x10;
		spit(bad, b, n);
		b[pos[i]] ^= 0x10;
		char what[64];
		snprintf(what, sizeof what, "bit flipped at byte %ld", pos[i]);
		expect_reject(bad, what, NULL);
	}
	/* trailing garbage */
	unsigned char *b2 = malloc((size_t)n + 10);
	memcpy(b2, b, (size_t)n);
	memset(b2 + n, 0xab, 10);
	spit(bad, b2, n + 10);
	expect_reject(bad, "trailing data", "trailing");
	free(b2);
	/* a text file */
	spit(bad,
	     (const unsigned char
	          *)"hello, this is not a checkpoint at all; no magic here..........",
	     64);
	expect_reject(bad, "not a checkpoint", "magic");
	/* a directory */
	expect_reject(argv[1], "a directory", NULL);
	/* overwrite keeps the file valid */
	ssmf_real *p = ssmf_model_params(m);
	p[0] += 1;
	expect(ssmf_checkpoint_save(path, m, err, sizeof err) == 0, "save over an existing file",
	       NULL);
	r = ssmf_checkpoint_load(path, err, sizeof err);
	expect(r && ssmf_model_params(r)[0] == p[0], "reload sees the new parameters", NULL);
	ssmf_model_free(r);
	/* unwritable target */
	char nodir[1100];
	snprintf(nodir, sizeof nodir, "%s/no/such/dir/m.ckpt", argv[1]);
	expect(ssmf_checkpoint_save(nodir, m, err, sizeof err) < 0 && strstr(err, "no/such"),
	       "save into a missing directory fails cleanly", err);
	free(b);
	ssmf_model_free(m);
	printf(g_fail ? "checkpoint: FAILED\n" : "checkpoint: all passed\n");
	return g_fail;
}
