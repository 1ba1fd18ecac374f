"""Link types beyond Ethernet, each on a real capture, checked against tshark.

For every capture: the packets read equal tshark's frame count; the packets
decoded equal tshark's frames with an IP or IPv6 layer; the TCP and UDP flows
equal tshark's conversations (as (protocol, endpoint, endpoint) pairs); and
802.11 frames skipped as protected or as not data equal tshark's count of the
same frames by their frame control fields (display filters below).
"""
import os
import subprocess
import sys

import h5py

sys.path.insert(0, os.path.dirname(__file__))
from common import extract, fail, tmpdir  # noqa: E402
from tshark_pairs import dataset_pairs, tshark_conversations  # noqa: E402

WS = "robustness/wireshark-debsrc/test/captures"
CAPTURES = [
    # (path under data/, link type libpcap reports)
    ("robustness/arkime/tests/pcap/80211http.pcap", 127),          # radiotap, HTTP over 802.11
    (WS + "/wpa-Induction.pcap.gz", 127),                          # radiotap, WPA: protected data
    ("robustness/libpcap/tests/filter/Network_Join_Nokia_Mobile.pcap", 105),  # bare 802.11
    ("robustness/libpcap/tests/filter/http_PPI.pcap", 192),        # PPI around 802.11
    ("robustness/arkime/tests/pcap/nflog.pcap", 239),              # NFLOG, TCP
    ("robustness/tcpdump/tests/nflog.pcap", 239),                  # NFLOG, DNS
    (WS + "/nfs.pcap", 10),                                        # FDDI
]
# 802.11 frames by frame control: version 0 frames that are management or
# control, or data subtypes without a body (bit 2 of the subtype: Null, CF-*).
WLAN_NON_DATA = ("wlan.fc.version == 0 && (wlan.fc.type != 2 || "
                 "wlan.fc.subtype & 4)")
WLAN_PROTECTED = ("wlan.fc.version == 0 && wlan.fc.type == 2 && "
                  "!(wlan.fc.subtype & 4) && wlan.fc.protected == 1")


def tshark_count(capture, dfilter=None):
    cmd = ["tshark", "-r", capture, "-T", "fields", "-e", "frame.number"]
    if dfilter:
        cmd += ["-Y", dfilter]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"tshark {dfilter}: {p.stderr.strip()}")
    return sum(1 for line in p.stdout.splitlines() if line.strip())


def main(ssmflow, data):
    with tmpdir() as td:
        for rel, linktype in CAPTURES:
            cap = os.path.join(data, rel)
            out = os.path.join(td, "o.h5")
            p = extract(ssmflow, [cap], out, "--idle-timeout", "0", "--active-timeout", "0",
                        "--tcp-close", "no", check=False)
            if p.returncode != 0:
                fail(f"{rel}: extract exited {p.returncode}: {p.stderr.strip()}")
            with h5py.File(out, "r") as f:
                a = f.attrs
                inp = f["inputs"][0]
                flows = f["flows"][:]
                if int(inp["linktype"]) != linktype:
                    fail(f"{rel}: link type {inp['linktype']}, expected {linktype}")
                want = {
                    "packets_read": tshark_count(cap),
                    "packets_decoded": tshark_count(cap, "ip || ipv6"),
                }
                if linktype in (105, 127, 192):
                    want["skipped_wlan_non_data"] = tshark_count(cap, WLAN_NON_DATA)
                    want["skipped_wlan_protected"] = tshark_count(cap, WLAN_PROTECTED)
                for k, v in want.items():
                    if int(a[k]) != v:
                        fail(f"{rel}: {k} {int(a[k])}, tshark {v}")
                ours = dataset_pairs(flows)
                theirs = {k: 1 for k in tshark_conversations(cap)}
                if {k: 1 for k in ours} != theirs or any(n != 1 for n in ours.values()):
                    fail(f"{rel}: flows {sorted(ours)} vs tshark conversations {sorted(theirs)}")
                print(f"ok {rel}: {want}, {len(ours)} TCP/UDP flows")
    print("PASS")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
