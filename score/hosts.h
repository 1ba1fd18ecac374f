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
 * judged mostly by its packets. Hosts are ranked by their events' summed surprise over
 * their number plus one (a host seen once ranks below one as surprising many times).
 */
#ifndef SSMF_HOSTS_H
#define SSMF_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "score/scorer.h"
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
	int top_comp;                    /* the largest of comp */
	size_t top_flow;                 /* index in the results of its most surprising event */
};

struct ssmf_host_results {
	struct ssmf_host_score *hosts; /* sorted by score, highest first */
	size_t n;
	uint64_t events;
};

/* Longest window of a host sequence the model runs at once; longer sequences run in
 * windows that overlap by SSMF_HOST_OVERLAP events of context. */
/* Weight of a flow's host score in its score, in predicted packets (score --host-weight;
 * 0: the packet level alone, as before the host level). */
#define SSMF_HOST_WEIGHT_DEFAULT 0.5

#define SSMF_HOST_WINDOW  1024
#define SSMF_HOST_OVERLAP 128

/* Scores the host level of flows r[0..n) with the host model hm; fills each flow's host
 * fields and adds weight x host score to its score. Returns 0, or -1 with err set. */
int ssmf_hosts_score(const struct ssmf_model *hm, struct ssmf_flow_score *r, size_t n,
                     double weight, struct ssmf_host_results *out, char *err, size_t errlen);
void ssmf_host_results_free(struct ssmf_host_results *h);

/* The component names of the host level's heads, for reasons. */
extern const char *const ssmf_host_comp_names[SSMF_N_COMP];

#endif
