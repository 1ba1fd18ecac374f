/* The activity profile's PROFILE section (ssmflow-formats(5)) and its surprise: sections
 * built here byte by byte from the format's description, not by the encoder, so an
 * encoder and decoder that agree on a wrong layout fail; a profile of three counts
 * (fitted before rate_returns existed) is read and judges the other three alone. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "features/host_profile.h"

static void le(unsigned char *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static void le_f64(unsigned char *b, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	le(b, v, 8);
}

/* A section of n counts: version 1, events 1000, mean k/10, sd 0.5 + k/10. */
static size_t section(unsigned char *b, uint32_t n, uint32_t version)
{
	le(b, version, 4);
	le(b + 4, n, 4);
	le(b + 8, 1000, 8);
	for (uint32_t k = 0; k < n; k++) {
		le_f64(b + 16 + 8 * k, k / 10.0);
		le_f64(b + 16 + 8 * (n + k), 0.5 + k / 10.0);
	}
	return 16 + 16 * (size_t)n;
}

/* One count's term as the format states it: w * z^2 / 2 for z = (log(1 + c/16) - mean) /
 * sd - margin when positive. */
static double term(double w, uint16_t c, double mean, double sd)
{
	double z = (log1p(c / 16.0) - mean) / sd - 1.0;
	return z > 0 ? w * z * z / 2 : 0;
}

int main(void)
{
	unsigned char b[128];
	char err[256];
	struct ssmf_host_profile p;

	/* four counts: every field where the format puts it */
	size_t n = section(b, 4, 1);
	CHECK_EQ(n, SSMF_PROFILE_BYTES);
	CHECK_EQ(ssmf_profile_decode(b, n, &p, err, sizeof err), 0);
	CHECK_EQ(p.counts, 4);
	CHECK_EQ(p.events, 1000);
	CHECK(p.mean[3] == 0.3 && p.sd[3] == 0.8);
	struct ssmf_host_event e = {0};
	e.rate_events = 16 * 40;
	e.rate_service = 16 * 3;
	e.rate_new_peers = 0;
	e.rate_returns = 16 * 12;
	double comp[SSMF_PROFILE_N], want[SSMF_PROFILE_N] = {
	                                 term(1, e.rate_events, 0.0, 0.5),
	                                 term(1, e.rate_service, 0.1, 0.6),
	                                 term(1, e.rate_new_peers, 0.2, 0.7),
	                                 term(0.2, e.rate_returns, 0.3, 0.8),
	                             };
	double s = ssmf_profile_score(&p, &e, comp), ws = 0;
	for (int k = 0; k < SSMF_PROFILE_N; k++) {
		CHECKF(fabs(comp[k] - want[k]) < 1e-12, "count %d: %g, want %g", k, comp[k],
		       want[k]);
		ws += want[k];
	}
	CHECK(fabs(s - ws) < 1e-12);
	CHECK(want[3] > 0 && want[0] > 0);

	/* the encoder writes the same bytes */
	unsigned char enc[SSMF_PROFILE_BYTES];
	ssmf_profile_encode(&p, enc);
	CHECK(memcmp(enc, b, SSMF_PROFILE_BYTES) == 0);

	/* three counts (64 bytes, before rate_returns): read, returns not judged */
	n = section(b, 3, 1);
	CHECK_EQ(n, 64);
	CHECK_EQ(ssmf_profile_decode(b, n, &p, err, sizeof err), 0);
	CHECK_EQ(p.counts, 3);
	s = ssmf_profile_score(&p, &e, comp);
	CHECK(comp[3] == 0);
	CHECK(fabs(s - (want[0] + want[1] + want[2])) < 1e-12);

	/* refused, each with a message */
	CHECKF(ssmf_profile_decode(b, 63, &p, err, sizeof err) < 0, "short section read");
	n = section(b, 3, 1);
	CHECKF(ssmf_profile_decode(b, 80, &p, err, sizeof err) < 0, "3 counts in 80 bytes read");
	n = section(b, 5, 1);
	CHECKF(ssmf_profile_decode(b, n, &p, err, sizeof err) < 0, "5 counts read");
	n = section(b, 2, 1);
	CHECKF(ssmf_profile_decode(b, n, &p, err, sizeof err) < 0, "2 counts read");
	n = section(b, 4, 2);
	CHECKF(ssmf_profile_decode(b, n, &p, err, sizeof err) < 0, "version 2 read");
	CHECK(strstr(err, "version 2") != NULL);
	n = section(b, 4, 1);
	le_f64(b + 16 + 8 * 7, 0.1); /* the returns' spread below SSMF_PROFILE_SD_MIN */
	CHECKF(ssmf_profile_decode(b, n, &p, err, sizeof err) < 0, "spread 0.1 read");
	CHECKF(ssmf_profile_decode(b, 4, &p, err, sizeof err) < 0, "4 bytes read");
	return check_report("test_host_profile");
}
