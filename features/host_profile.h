/* host_profile.h - the host level's activity profile: how far above normal hosts an event's
 * recent-activity counts lie (ssmf_host_event.h, rate_*).
 *
 * The host model predicts each event from the host's earlier ones, so what repeats becomes
 * predictable: the 400th connection of a brute force, the 90th call of a beacon, the
 * 1,000th probe of a sweep. What is odd about them is how many there were, which the
 * profile judges against normal traffic: for each count, log(1 + events) has a mean and a
 * spread over the events of the training data (fitted by `ssmflow train` with the host
 * level), and an event's profile surprise is the sum over the counts of w z^2 / 2 (w the
 * count's weight) for
 * z = (x - mean) / sd - SSMF_PROFILE_MARGIN when positive: a Gaussian's negative
 * log-likelihood measured from one spread above the mean, and counted on the high side
 * only (a quiet host is never odd for being quiet, and a count within one spread of what
 * normal hosts show is no evidence: busy normal hosts stay at 0).
 */
#ifndef SSMF_HOST_PROFILE_H
#define SSMF_HOST_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "features/ssmf_host_event.h"

/* The counts judged: rate_events, rate_service, rate_new_peers and (from host event
 * version 3) rate_returns. A model fitted before a count existed has fewer; its later
 * counts are not judged. */
#define SSMF_PROFILE_N       4
#define SSMF_PROFILE_N_MIN   3
#define SSMF_PROFILE_VERSION 1u
/* The PROFILE section's size for n counts; SSMF_PROFILE_BYTES for all of them. */
#define SSMF_PROFILE_SIZE(n) (16u + 16u * (unsigned)(n))
#define SSMF_PROFILE_BYTES   SSMF_PROFILE_SIZE(SSMF_PROFILE_N)
/* The smallest spread a count keeps: one that never varied in training still needs a
 * factor of e^0.25 (1.28x) per unit of z. */
#define SSMF_PROFILE_SD_MIN 0.25
/* Spreads above the mean where a count starts to be surprising. */
#define SSMF_PROFILE_MARGIN 1.0

struct ssmf_host_profile {
	double mean[SSMF_PROFILE_N]; /* of log(1 + count), the count in events */
	double sd[SSMF_PROFILE_N];   /* at least SSMF_PROFILE_SD_MIN */
	uint64_t events;             /* events the fit saw */
	int counts;                  /* counts fitted: the first `counts` are judged */
};

/* The counts' names, in order (rate_events, rate_service, rate_new_peers, rate_returns),
 * for reasons and column names. */
extern const char *const ssmf_profile_names[SSMF_PROFILE_N];
/* Each count's weight in the surprise. Returns weigh 0.2: normal services call home too
 * (a voice client's heartbeat to its server every 600 s for a day, a messenger's
 * reconnects), so a high return count is weaker evidence than a high rate; at 0.2 a
 * beacon's returns still outweigh what a single odd flow scores (docs/detection.md). */
extern const double ssmf_profile_weights[SSMF_PROFILE_N];

/* log(1 + count) of each of e's counts. */
void ssmf_profile_values(const struct ssmf_host_event *e, double x[SSMF_PROFILE_N]);

/* The fit: sums over events. */
struct ssmf_profile_fit {
	uint64_t n;
	double sum[SSMF_PROFILE_N], sumsq[SSMF_PROFILE_N];
};
void ssmf_profile_fit_add(struct ssmf_profile_fit *f, const struct ssmf_host_event *e);
/* Returns 0, or -1 when the fit saw no event. */
int ssmf_profile_fit_done(const struct ssmf_profile_fit *f, struct ssmf_host_profile *p);

/* e's profile surprise: the sum over the counts of weight * z^2 / 2 (z as above, when
 * positive); comp (may be NULL) gets each count's weighted term. */
double ssmf_profile_score(const struct ssmf_host_profile *p, const struct ssmf_host_event *e,
                          double comp[SSMF_PROFILE_N]);

/* The PROFILE section of a model file: u32 version, u32 counts (n), u64 events, f64
 * mean[n], f64 sd[n], little-endian, SSMF_PROFILE_SIZE(n) bytes; encoding writes all
 * SSMF_PROFILE_N, decoding reads n from SSMF_PROFILE_N_MIN to SSMF_PROFILE_N and checks
 * every field; -1 with err. */
void ssmf_profile_encode(const struct ssmf_host_profile *p, unsigned char out[SSMF_PROFILE_BYTES]);
int ssmf_profile_decode(const void *data, size_t n, struct ssmf_host_profile *p, char *err,
                        size_t errlen);

#endif
