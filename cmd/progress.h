/* progress.h - one progress line on a terminal, for extract, score (input bytes read)
 * and train (steps): percent, rate and time left, redrawn at most a few times a
 * second, cleared at the end. Nothing at all when stderr is not a terminal or the
 * command is --quiet, so logs and pipes never see it. */
#ifndef SSMF_PROGRESS_H
#define SSMF_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

enum ssmf_progress_unit { SSMF_PROGRESS_BYTES, SSMF_PROGRESS_STEPS };

struct ssmf_progress {
	int on;                       /* stderr is a terminal and not --quiet */
	int drawn;                    /* a line is on the screen */
	enum ssmf_progress_unit unit; /* what done and total count */
	uint64_t total;               /* 0: unknown (no percent, no time left) */
	uint64_t first;               /* done at the start (a resumed run's steps) */
	double t0, last_draw;
};

/* total: the bytes of the inputs (ssmf_progress_input_bytes) or the steps to run. */
void ssmf_progress_start(struct ssmf_progress *p, int quiet, enum ssmf_progress_unit unit,
                         uint64_t total, uint64_t first);
/* done of total so far; extra (may be NULL) follows on the line. Draws only when the last
 * drawing is old enough. */
void ssmf_progress_update(struct ssmf_progress *p, uint64_t done, const char *extra);
/* Clears the line (before other output, and at the end). */
void ssmf_progress_clear(struct ssmf_progress *p);

/* The size of the inputs that are regular files, compressed or not; 0 when any is not
 * (stdin, a pipe): then the total is unknown. */
uint64_t ssmf_progress_input_bytes(const char *const *paths, size_t n);

#endif
