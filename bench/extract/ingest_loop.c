/* The main thread of `extract` alone: libpcap read, decode and flow table
 * (ssmf_ingest), flows handed to a sink that only counts them. Prints the
 * thread's own CPU time (min over repeats), which the SHA-256 and HDF5 threads
 * and other load on the machine barely disturb, unlike wall time. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "features/flowtable.h"
#include "features/ingest.h"

static int count_flow(void *user, const struct ssmf_flow_summary *s,
                      const struct ssmf_record *records)
{
	(void)records;
	*(uint64_t *)user += s->packet_count;
	return 0;
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: ingest_loop CAPTURE [REPEAT]\n");
		return 1;
	}
	int repeat = argc == 3 ? atoi(argv[2]) : 5;
	double best = 1e30;
	uint64_t packets = 0, records = 0;
	for (int i = 0; i < repeat; i++) {
		struct ssmf_flow_params p;
		ssmf_flow_params_default(&p);
		records = 0;
		struct ssmf_flowtable *t = ssmf_flowtable_new(&p, count_flow, &records);
		if (!t)
			return 5;
		struct ssmf_ingest_result res;
		const char *paths[1] = {argv[1]};
		double t0 = thread_cpu_s();
		int rc = ssmf_ingest(paths, 1, NULL, t, NULL, &res);
		if (rc == 0)
			rc = ssmf_flowtable_flush(t);
		double dt = thread_cpu_s() - t0;
		packets = res.packets_read;
		if (rc != 0 || res.refused) {
			fprintf(stderr, "ingest_loop: %s could not be read\n", argv[1]);
			return 2;
		}
		ssmf_ingest_result_free(&res);
		ssmf_flowtable_free(t);
		if (dt < best)
			best = dt;
	}
	printf("%llu packets %llu records %.3f s thread CPU (min of %d) %.2f Mpkt/s\n",
	       (unsigned long long)packets, (unsigned long long)records, best, repeat,
	       (double)packets / best / 1e6);
	return 0;
}
