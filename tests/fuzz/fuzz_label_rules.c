/* fuzz_label_rules.c - BPF label rules (--label-rule NAME=EXPR): libpcap's
 * compiler on hostile expressions through ssmf_labels_add_rule, then the
 * rules run against a flow whose key comes from the input.
 *
 * Input: 38 bytes of flow key (IP version bit, protocol, ports, addresses),
 * then rule specs, one per line. */
#include <stdlib.h>
#include <string.h>

#include "datasets/labels.h"
#include "tests/fuzz/fuzz.h"

#define KEY_BYTES 38 /* version/proto (2), ports (4), addresses (2 x 16) */
#define MAX_RULES 8  /* each compile is costly; more rules find nothing new */

static void key_from_bytes(const uint8_t *k, struct ssmf_flow_summary *s)
{
	s->ip_version = (k[0] & 1) ? 6 : 4;
	s->protocol = k[1];
	s->src_port = (uint16_t)(k[2] << 8 | k[3]);
	s->dst_port = (uint16_t)(k[4] << 8 | k[5]);
	memcpy(s->src_addr, k + 6, 16);
	memcpy(s->dst_addr, k + 22, 16);
	if (s->ip_version == 4) { /* IPv4 keeps the rest of the address zero */
		memset(s->src_addr + 4, 0, 12);
		memset(s->dst_addr + 4, 0, 12);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < KEY_BYTES)
		return 0;
	struct ssmf_flow_summary s = {0};
	key_from_bytes(data, &s);
	struct ssmf_label_opts o;
	ssmf_label_opts_default(&o);
	struct ssmf_labels *l = ssmf_labels_new(&o);
	char *text = malloc(size - KEY_BYTES + 1);
	if (!l || !text) {
		free(text);
		ssmf_labels_free(l);
		return 0;
	}
	memcpy(text, data + KEY_BYTES, size - KEY_BYTES);
	text[size - KEY_BYTES] = 0;
	int added = 0;
	char *save = NULL;
	for (char *spec = strtok_r(text, "\n", &save); spec && added < MAX_RULES;
	     spec = strtok_r(NULL, "\n", &save)) {
		char err[1024] = "";
		if (ssmf_labels_add_rule(l, spec, err, sizeof err) == 0)
			added++;
		else
			FUZZ_CHECK(err[0] != 0 && memchr(err, 0, sizeof err));
	}
	FUZZ_CHECK(ssmf_labels_active(l) == (added > 0));
	int32_t id = ssmf_labels_lookup(l, &s, NULL);
	FUZZ_CHECK(id == SSMF_LABEL_NONE || (id >= 0 && (size_t)id < ssmf_labels_count(l)));
	if (id >= 0)
		FUZZ_CHECK(ssmf_labels_name(l, id) != NULL);
	free(text);
	ssmf_labels_free(l);
	return 0;
}
