/* pcap_records.h - a crude test-only record builder (IPv4/IPv6 TCP/UDP 5-tuple flows), so the
 * model's tests use real captures without depending on features/. Not the product decoder. */
#ifndef SSMF_PCAP_RECORDS_H
#define SSMF_PCAP_RECORDS_H

#include <stddef.h>

#include "features/ssmf_record.h"

/* Reads `path`; *out receives the records in capture order (flow_id from 0). Returns the
 * record count, or -1 with a message in err. */
long pcap_records_read(const char *path, struct ssmf_record **out, int *n_flows, char *err,
                       size_t errlen);

#endif
