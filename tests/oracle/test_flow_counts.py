"""TCP and UDP flow counts equal tshark's conversation counts.

With timeouts and TCP close disabled, every nDPI capture that libpcap reads
cleanly must give as many TCP and UDP flows as tshark counts conversations
(../shared/data/reference/nDPI.flows.tsv, tshark 4.0.17). The exceptions are
listed one by one below, and each is checked, not just excused.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import clean_captures, extract, fail, read_tsv, tmpdir  # noqa: E402
from tshark_pairs import dataset_flows, dataset_pairs, tshark_conversations  # noqa: E402

# Where the counts differ for a reason that is checkable: the set of distinct
# (protocol, endpoint, endpoint) pairs that tshark reports, minus outer tunnel
# conversations, equals the set of pairs of our flows. Reasons:
#   split  - tshark splits one 5-tuple into several conversations (TCP port
#            reuse creates a new tcp.stream; SIP/SDP and SCCP set up RTP/T.38
#            conversations from a given frame on). We key flows by 5-tuple.
#   vlan   - ssmflow keys flows by VLAN id too; tshark's conversation table
#            does not, so one tshark conversation seen on several VLANs is
#            several of our flows.
#   tunnel - tshark counts the outer UDP conversation of GTP-U (port 2152) or
#            VXLAN (4789) as well as the inner one; ssmflow decapsulates and
#            keeps only the inner flow (with the tunnel id recorded).
PAIR_CHECKED = {
    "FAX-Call-t38-CA-TDM-SIP-FB-1.pcap": "split",
    "hart_ip.pcap": "split",
    "skinny.pcap": "split",
    "snmp.pcap": "split",
    "vnc.pcap": "split",
    "mongodb.pcap": "vlan",
    "syslog.pcap": "vlan",
    "dtls.pcap": "tunnel",
    "false_positives.pcapng": "tunnel",
    "http_origin_different_than_host.pcap": "tunnel",
    "ipv6_in_gtp.pcap": "tunnel",
    "ja3_lots_of_cipher_suites_2_anon.pcap": "tunnel",
    "reasm_segv_anon.pcapng": "tunnel",
    "rtmp.pcap": "tunnel",
    "tls_change_cipher.pcap": "tunnel",
    "tls_invalid_reads.pcap": "tunnel",
    "vxlan.pcap": "tunnel",
    "zoom.pcap": "tunnel",
}
TUNNEL_PORTS = {"2152", "4789"}

# Where no tshark view matches, our counts are pinned (tcp, udp) with the reason.
PINNED = {
    # CAPWAP (UDP 5246/5247) carries 802.11 frames; tshark decodes a DHCP
    # exchange inside it, ssmflow does not decapsulate CAPWAP.
    "capwap.pcap": ((0, 5), "inner DHCP inside CAPWAP data is not decapsulated"),
    # The same CAPWAP data tunnel on three VLANs (3 of our flows, 1 for tshark),
    # and tshark's inner TCP conversation inside CAPWAP.
    "capwap_data.pcapng": ((0, 3), "CAPWAP not decapsulated; the tunnel is seen on 3 VLANs"),
    # Fuzzed captures: tshark and ssmflow disagree on which damaged headers still
    # name a conversation (we skip IPv4 headers whose length fields are
    # inconsistent, and key non-first fragments without a first fragment by
    # address only).
    "fuzz-2006-06-26-2594.pcap": ((24, 227), "fuzzed headers"),
    "fuzz-2020-02-16-11740.pcap": ((0, 77), "fuzzed headers"),
    "ip_fragmented_garbage.pcap": ((1, 0), "garbage non-first fragments: tshark reads "
                                           "ports from fragment payload, we do not"),
    "quic-fuzz-overflow.pcapng": ((0, 1), "a lone first fragment (MF set): tshark waits "
                                          "for a reassembly that never completes and "
                                          "counts no UDP conversation; we count its flow"),
}


def main(ssmflow, data):
    counts = {r[0]: (int(r[1]), int(r[2])) for r in read_tsv(
        os.path.join(data, "reference", "nDPI.flows.tsv"))}
    clean = set(clean_captures(data, "nDPI.libpcap.tsv"))
    captures = sorted(c for c in counts if c in clean)
    if len(captures) < 500:
        fail(f"only {len(captures)} clean nDPI captures found under {data}")
    seen_exceptions = set()
    failures = []
    with tmpdir() as td:
        out = os.path.join(td, "flows.h5")
        for rel in captures:
            name = os.path.basename(rel)
            path = os.path.join(data, rel)
            p = extract(ssmflow, [path], out, "--idle-timeout", "0", "--active-timeout", "0",
                        "--tcp-close", "no", check=False)
            if p.returncode != 0:
                failures.append(f"{rel}: exit {p.returncode}: {p.stderr.strip()}")
                continue
            flows = dataset_flows(out)
            ours = (int((flows["protocol"] == 6).sum()), int((flows["protocol"] == 17).sum()))
            if name in PINNED:
                seen_exceptions.add(name)
                want, why = PINNED[name]
                if ours != want:
                    failures.append(f"{rel}: ours {ours}, pinned {want} ({why})")
                continue
            if name in PAIR_CHECKED:
                seen_exceptions.add(name)
                theirs = {k for k in tshark_conversations(path)
                          if not (PAIR_CHECKED[name] == "tunnel"
                                  and {k[1].rsplit(":", 1)[1], k[2].rsplit(":", 1)[1]}
                                  & TUNNEL_PORTS)}
                mine = set(dataset_pairs(flows))
                if theirs != mine:
                    failures.append(f"{rel} ({PAIR_CHECKED[name]}): pairs differ: tshark-only "
                                    f"{sorted(theirs - mine)[:3]} ours-only "
                                    f"{sorted(mine - theirs)[:3]}")
                continue
            if ours != counts[rel]:
                failures.append(f"{rel}: ours tcp/udp {ours}, tshark {counts[rel]}")
    stale = set(PAIR_CHECKED) | set(PINNED)
    stale -= seen_exceptions
    if stale:
        failures.append(f"exceptions for captures not in the set: {sorted(stale)}")
    print(f"{len(captures)} captures, {len(captures) - len(seen_exceptions)} equal to tshark's "
          f"counts, {len(seen_exceptions)} explained exceptions, {len(failures)} failures")
    for f in failures:
        print("  ", f)
    if failures:
        fail(f"{len(failures)} captures differ from tshark")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
