/* provenance.h - where one input came from and how reading it went; stored
 * per input in every dataset (/inputs). */
#ifndef SSMF_PROVENANCE_H
#define SSMF_PROVENANCE_H

struct ssmf_input_info {
	char *path;
	char *format;  /* "pcap", "pcapng.gz", ... or "" if unreadable */
	char *sha256;  /* 64 hex digits of the raw (on-disk) bytes; "" if unreadable */
	char *status;  /* "ok", "partial" (damaged: read up to the damage), "refused" */
	char *message; /* the reason, "" when ok */
	unsigned long long size_bytes; /* raw bytes read */
	unsigned long long packets;    /* packets read from it (before --filter) */
	int linktype;                  /* DLT_ value, -1 if unreadable */
	char *linktype_name;
	/* Interface statistics blocks (pcapng): how many were read, and the capture's
	 * drops they report (isb_ifdrop by the interface, isb_osdrop by the OS),
	 * the last ISB per interface summed over interfaces. isb_count 0: unknown. */
	unsigned long long isb_count;
	unsigned long long isb_ifdrop;
	unsigned long long isb_osdrop;
};

#endif
