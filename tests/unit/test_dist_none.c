/* test_dist_none.c - the build of train/dist.h without MPI, which the MPI build does not
 * link: a plain start is one process; a launcher's process count is refused with the way
 * to the distributed build; shares of n items among the ranks cover 0..n once, in order,
 * sizes differing by one at most. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "train/dist.h"
#include "train/train.h"

/* rank_var NULL: not set */
static void launched_as(const char *var, const char *value, const char *rank_var, const char *rank,
                        int want_rc, int want_message)
{
	struct train_dist d;
	char err[512] = "";
	setenv(var, value, 1);
	if (rank_var)
		setenv(rank_var, rank, 1);
	int rc = train_dist_init(&d, NULL, NULL, err, sizeof err);
	unsetenv(var);
	if (rank_var)
		unsetenv(rank_var);
	CHECKF(rc == want_rc, "%s=%s: rc %d, want %d", var, value, rc, want_rc);
	if (want_rc < 0 && !want_message) {
		CHECKF(!err[0], "%s=%s, rank %s: said %s", var, value, rank, err);
	} else if (want_rc < 0) {
		CHECKF(strstr(err, var) && strstr(err, "without MPI") &&
		           strstr(err, "libopenmpi-dev"),
		       "%s=%s: %s", var, value, err);
	} else {
		CHECK(d.rank == 0 && d.size == 1);
	}
}

int main(void)
{
	static const char *const vars[] = {TRAIN_DIST_LAUNCHER_VARS};
	static const char *const ranks[] = {TRAIN_DIST_RANK_VARS};
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		unsetenv(vars[i]);
		unsetenv(ranks[i]);
	}
	launched_as("SSMF_NOT_A_LAUNCHER", "4", NULL, NULL, 0, 0);
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		/* mpirun -np 1: a single process is fine */
		launched_as(vars[i], "1", ranks[i], "0", 0, 0);
		/* rank 0 of 3 says how to get the MPI build, ranks 1 and 2 leave it to it */
		launched_as(vars[i], "3", ranks[i], "0", TRAIN_E_USAGE, 1);
		launched_as(vars[i], "3", NULL, NULL, TRAIN_E_USAGE, 1);
		launched_as(vars[i], "3", ranks[i], "2", TRAIN_E_USAGE, 0);
	}

	for (int size = 1; size <= 9; size++)
		for (int n = 0; n <= 40; n++) {
			int next = 0;
			for (int rank = 0; rank < size; rank++) {
				struct train_dist d = {.rank = rank, .size = size};
				int lo, hi;
				train_dist_share(&d, n, &lo, &hi);
				CHECKF(lo == next && hi >= lo && hi - lo <= n / size + 1 &&
				           hi - lo >= n / size,
				       "n %d size %d rank %d: [%d, %d)", n, size, rank, lo, hi);
				next = hi;
			}
			CHECKF(next == n, "n %d size %d: shares end at %d", n, size, next);
		}
	return check_report("test_dist_none");
}
