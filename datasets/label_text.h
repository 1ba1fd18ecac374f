/* label_text.h - the fields of label files: splitting lines and parsing addresses, ports,
 * protocols and times, each bounded and strict (the label file parsers' shared pieces). */
#ifndef SSMF_LABEL_TEXT_H
#define SSMF_LABEL_TEXT_H

#include <stdint.h>

#include "datasets/labels.h"

#define SSMF_LT_MAX_FIELDS 128 /* columns of a label file beyond these are ignored */

/* Skips leading white space and UTF-8 byte order mark bytes; cuts trailing white space in
 * place. */
char *ssmf_lt_trim(char *s);
/* Splits a CSV line in place (RFC 4180 quotes), fields trimmed; returns the field count. */
int ssmf_lt_split_csv(char *line, char **f, int max);
/* Splits a Zeek line in place at tabs and spaces (Stratosphere's labelled logs have spaces
 * before their added label columns), dropping empty fields and the first skip fields. */
int ssmf_lt_split_zeek(char *line, char **f, int max, int skip);
/* An IPv4 or IPv6 address into 16 bytes: 4 or 6, or 0 when it is neither. */
int ssmf_lt_parse_addr(const char *s, uint8_t out[16]);
int ssmf_lt_parse_port(const char *s, uint16_t *p);
/* tcp, udp, icmp, icmpv6/icmp6 or a number up to 255. */
int ssmf_lt_parse_proto(const char *s, uint8_t *p);
/* Seconds since the epoch (fractional) to nanoseconds; -1 past year 2255. */
int ssmf_lt_parse_epoch(const char *s, const struct ssmf_label_opts *o, int64_t *ns);
/* CICFlowMeter local time: "dd/mm/yyyy HH:MM[:SS][ AM|PM]" or "yyyy-mm-dd HH:MM:SS[.f]". */
int ssmf_lt_parse_cic_time(const char *s, const struct ssmf_label_opts *o, int64_t *ns);

#endif
