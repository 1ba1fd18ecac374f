/* hosts.h - the host level of scoring: each endpoint's sequence of flow events
 * (features/host_events.h) under the host model, and what it adds to flow scores.
 *
 * Every flow has two events, one in its initiator's sequence and one in its responder's;
 * an event's surprise is its negative log-likelihood given the host's earlier events (the
 * host's first event is predicted from the start row: the model's prior). A flow's host
 * score is the larger of its two events' surprises. Its final score is its mean surprise
 * per observation: the summed surprise of its predicted packets plus `weight` times its
 * host score, over the predicted packets plus `weight`. So a one-packet probe scores its
 * host score (it was 0), a short flow of an abnormal host is lifted, and a long flow is
 * judged mostly by its packets.
 *
 * What repeats becomes predictable to the host model (a brute force's 400th connection),
 * so each event is also judged by the host's recent activity (features/host_profile.h):
 * a flow's activity is the larger of its two events' activity surprises, and it adds
 * `activity_weight` times that to the flow's score (it is its own observation, not one
 * of the packets: a long flow of a host that floods is lifted as much as a short one).
 * A long flow is also judged by its packets as a whole (ssm/evidence.h): `evidence_weight`
 * times their evidence is added to its score, outside the mean as the activity is.
 * And a flow is judged by its most surprising packet: `peak_weight` times its max_surprise
 * is added, since a mean dilutes the one request of an exploit or the one reply of a
 * download in a flow that is otherwise a normal session (docs/detection.md).
 * Hosts are ranked by their events' summed surprise, each event's activity included at
 * the same weight, over their number plus one (a host seen once ranks below one as
 * surprising many times).
 */
#ifndef SSMF_HOSTS_H
#define SSMF_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "cuda/devices.h"
#include "features/host_profile.h"
#include "score/scorer.h"
#include "ssm/evidence.h"
#include "ssm/ssm.h"

struct ssmf_host_score {
	uint8_t addr[16]; /* IPv4 in the first 4 */
	uint8_t ip_version;
	uint32_t source; /* the flows' source (hosts of different datasets differ) */
	uint32_t flows_init, flows_resp; /* events as initiator, as responder */
	uint32_t peers, ports;           /* distinct peers, distinct service ports */
	double score;                    /* summed surprise of its events / (events + 1) */
	double max_event;                /* its most surprising event */
	double comp[SSMF_N_COMP];        /* mean surprise per component (role, size, gap, flags) */
	double activity;                 /* mean activity surprise of its events */
	double activity_comp[SSMF_PROFILE_N]; /* the same per count (rate, repeats, new peers) */
	const char *top_reason; /* the largest weighted component's name (a constant) */
	size_t top_flow;        /* index in the results of its most surprising event */
};

struct ssmf_host_results {
	struct ssmf_host_score *hosts; /* sorted by score, highest first */
	size_t n;
	uint64_t events;
};

/* Weight of a flow's host score in its score, in predicted packets (score --host-weight;
 * 0: the packet level alone, as before the host level). */
#define SSMF_HOST_WEIGHT_DEFAULT 0.5
/* Weight of a flow's activity surprise in its score (score --activity-weight; 0: off). */
#define SSMF_ACTIVITY_WEIGHT_DEFAULT 1.0
/* Weight of a flow's packets' evidence in its score (score --evidence-weight; 0: off):
 * small, because every long normal flow has some (docs/detection.md). */
#define SSMF_EVIDENCE_WEIGHT_DEFAULT 0.2
/* Weight of a flow's most surprising packet (max_surprise) in its score (score
 * --peak-weight; 0: off): small, because every long flow has a peak (docs/detection.md). */
#define SSMF_PEAK_WEIGHT_DEFAULT 0.1

/* The host level as score runs it. */
struct ssmf_host_level {
	const struct ssmf_model *model;
	const struct ssmf_host_profile *profile; /* NULL: the model file has none */
	double weight;                           /* --host-weight */
	double activity_weight;                  /* --activity-weight */
	const struct ssmf_evidence *evidence;    /* NULL: the model file has none */
	double evidence_weight;                  /* --evidence-weight */
	double peak_weight;                      /* --peak-weight */
	/* where the host model runs (score --device): NULL the CPU, else the CUDA API. Hosts
	 * of up to SSMF_HOST_WINDOW events run there; longer ones go on window after window
	 * from a carried state, which the GPU's sequence path does not take: on the CPU. */
	const struct ssmf_cuda_api *gpu;
};

/* Longest window of a host sequence the model runs at once; longer sequences run window
 * after window, each from the state the previous one left (the numbers of one piece). */
#define SSMF_HOST_WINDOW 1024

/* Scores the host level of flows r[0..n); fills each flow's host and activity fields and
 * combines them into its score as above. Returns 0, or -1 with err set. */
int ssmf_hosts_score(const struct ssmf_host_level *hl, struct ssmf_flow_score *r, size_t n,
                     struct ssmf_host_results *out, char *err, size_t errlen);
void ssmf_host_results_free(struct ssmf_host_results *h);

/* The component names of the host level's heads, for reasons; the activity profile's,
 * prefixed for reasons ("activity:repeats"). */
extern const char *const ssmf_host_comp_names[SSMF_N_COMP];
extern const char *const ssmf_activity_reasons[SSMF_PROFILE_N];

#endif
