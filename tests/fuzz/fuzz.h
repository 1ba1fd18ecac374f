/* fuzz.h - the one entry point every fuzz target defines.
 *
 * Each target is built twice: with libFuzzer's main (-DSSMF_FUZZ=ON, clang)
 * and with replay_main.c in every normal build, where CTest feeds it the
 * regression inputs in tests/fuzz/regressions/<target>/.
 */
#ifndef SSMF_FUZZ_H
#define SSMF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message when an invariant of the code under test is broken:
 * libFuzzer and the replay both report an abort as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__, __LINE__, #cond);                                      \
	} while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/* The input as a file: a memfd's /proc path (no disk, no clean-up). Returns
 * the fd (close it when done) and writes the path into `path`; -1 on error. */
int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t pathlen);

#endif
