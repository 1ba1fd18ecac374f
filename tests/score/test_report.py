#!/usr/bin/env python3
"""score --report in a real browser: headless Chromium loads the page from file:// with
the network off, runs its script, and the numbers it shows are checked against the CSV of
the same run (flow count, top flow, its packets, the host count, the histogram's total),
against scikit-learn (ROC-AUC and PR-AUC on the CSV's scores and labels, the confusion
matrix at the threshold) and against hashlib (each input's SHA-256). Every string from
the input (a label name, an input's path) must arrive as text, not markup. A screenshot
must not be blank (pixel variance, with Pillow). Pages of no flow and one flow render; an
unwritable report is exit 4 with one line. With --large, only a page of 100k flows (its
figures sampled, its size bounded).

usage: test_report.py SSMFLOW DATA [--large]
Exits 77 (skipped) without chromium.
"""
import csv
import hashlib
import html.parser
import os
import re
import shutil
import subprocess
import sys

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "faults"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
import pcapgen  # noqa: E402
from common import fail, tmpdir  # noqa: E402

NDPI = "traffic/nDPI/tests/cfgs/default/pcap"
SKIP = 77
# An input string that would be markup if the page did not escape it (no '=': the
# option splits NAME=GLOB there).
HOSTILE_LABEL = "<b>scan</b>&amp;\"'"


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], []

    def all_text(self):
        return "".join(self.text) + "".join(c.all_text() for c in self.children)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


class Tree(html.parser.HTMLParser):
    """The DOM Chromium dumped, as a tree (void elements have no children)."""
    VOID = {"meta", "link", "br", "img", "input", "hr", "line", "rect", "circle",
            "polyline", "path"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in self.VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text.append(data)

    def by_id(self, ident):
        for n in self.root.walk():
            if n.attrs.get("id") == ident:
                return n
        return None

    def find(self, pred):
        return [n for n in self.root.walk() if pred(n)]


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def browser(exe, profile, *args):
    """Chromium headless with no network: every host resolves to nothing and the proxy
    is a closed port, so a page that fetched anything would show it broken."""
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--proxy-server=127.0.0.1:9", "--disable-background-networking", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def render(exe, page, td):
    """The DOM after the page's script ran, and a screenshot's pixel variance."""
    url = "file://" + os.path.abspath(page)
    profile = os.path.join(td, "profile")
    p = browser(exe, profile, "--virtual-time-budget=2000", "--dump-dom", url)
    if p.returncode != 0 or "<html" not in p.stdout:
        fail(f"chromium --dump-dom {page} exited {p.returncode}: {p.stderr[-500:]}")
    dom = p.stdout
    shot = os.path.join(td, "shot.png")
    p = browser(exe, profile, f"--screenshot={shot}", "--window-size=1280,1600", url)
    if p.returncode != 0 or not os.path.exists(shot):
        fail(f"chromium --screenshot {page} exited {p.returncode}: {p.stderr[-500:]}")
    from PIL import Image
    px = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    os.unlink(shot)
    return Tree(dom), px.var(), float((px < 250).mean())


def check_static(page):
    """Self-contained: nothing the page could fetch (no src, no external href, no url())."""
    text = open(page, encoding="utf-8").read()
    for m in re.finditer(r"""\b(src|href)\s*=\s*["']?([^"'\s>]*)""", text):
        if not m.group(2).startswith("#"):
            fail(f"{page}: {m.group(1)}={m.group(2)!r} would fetch something")
    if re.search(r"url\(|@import|https?://", text):
        fail(f"{page}: a URL in the page")
    return len(text)


def run(*cmd, ok=(0,)):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in ok:
        fail(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def value(tree, ident):
    n = tree.by_id(ident)
    if n is None or "data-value" not in n.attrs:
        fail(f"the page has no #{ident} with a data-value")
    return float(n.attrs["data-value"])


def common_checks(tree, var, ink, rows, what):
    body = tree.find(lambda n: n.tag == "body")
    if not body or body[0].attrs.get("data-ready") != "1":
        fail(f"{what}: the page's script did not run (body has no data-ready)")
    if var < 50 or ink < 0.01:
        fail(f"{what}: the screenshot looks blank (variance {var:.1f}, {ink:.1%} ink)")
    if int(value(tree, "flow-count")) != len(rows):
        fail(f"{what}: the page shows {value(tree, 'flow-count'):.0f} flows, the CSV "
             f"has {len(rows)}")
    hist = tree.by_id("histogram")
    if rows:
        total = sum(int(n.attrs["data-count"]) for n in hist.walk() if "data-count" in n.attrs)
        if total != len(rows):
            fail(f"{what}: the histogram's bins hold {total} flows, not {len(rows)}")
        top = max(float(r["score"]) for r in rows)
        if abs(value(tree, "top-score") - top) > 1e-6:
            fail(f"{what}: top score {value(tree, 'top-score')} != the CSV's {top}")
        first = tree.find(lambda n: n.tag == "tr" and n.attrs.get("id") == "flow-1")
        if not first or first[0].attrs["data-flow-id"] != rows[0]["flow_id"]:
            fail(f"{what}: the table's first flow is not the CSV's first")
    elif hist is not None:
        fail(f"{what}: a histogram without flows")
    print(f"{what}: {len(rows)} flows; screenshot variance {var:.0f}, {ink:.1%} ink")


def labelled_run(ssmflow, exe, data, td):
    scan = os.path.join(data, "labeled/evilfingers-nmap-scans/TCP_CONNECT_SCAN.pcap")
    # an input path with markup in it: the page must show it as text
    odd = os.path.join(td, "a<b>&c.pcap")
    os.symlink(os.path.join(data, NDPI, "dns_doh.pcap"), odd)
    inputs = [scan, odd, os.path.join(data, NDPI, "quic-23.pcap")]
    out, page = os.path.join(td, "s.csv"), os.path.join(td, "r.html")
    p = run(ssmflow, "score", "-o", out, "--report", page, "--threshold", "8",
            "--label-input", f"{HOSTILE_LABEL}=*SCAN*", "--label-input", "benign=*&c.pcap",
            "--label-input", "benign=*quic-23*",
            *inputs)
    rows, hosts = read_csv(out), read_csv(out + ".hosts.csv")
    size = check_static(page)
    tree, var, ink = render(exe, page, td)
    common_checks(tree, var, ink, rows, "labelled run")

    # evaluation: scikit-learn on the CSV's scores and labels, and the terminal's numbers
    y = np.array([r["label"] != "benign" for r in rows if r["label"]], dtype=int)
    s = np.array([float(r["score"]) for r in rows if r["label"]])
    for ident, want in (("roc-auc", roc_auc_score(y, s)),
                        ("pr-auc", average_precision_score(y, s))):
        if abs(value(tree, ident) - want) > 1e-4:
            fail(f"page {ident} {value(tree, ident):.6f} != scikit-learn's {want:.6f}")
    shown = re.search(r"ROC-AUC (\d\.\d{4})", p.stdout)
    if not shown or f"{value(tree, 'roc-auc'):.4f}" != shown.group(1):
        fail(f"page ROC-AUC {value(tree, 'roc-auc'):.4f} != the terminal's {shown}")
    cm = tree.by_id("confusion").attrs
    flagged = s >= 8
    want = {"data-tp": (flagged & (y == 1)).sum(), "data-fp": (flagged & (y == 0)).sum(),
            "data-tn": (~flagged & (y == 0)).sum(), "data-fn": (~flagged & (y == 1)).sum()}
    for k, v in want.items():
        if int(cm[k]) != int(v):
            fail(f"confusion matrix {k} {cm[k]} != {v} counted from the CSV")
    if int(value(tree, "host-count")) != len(hosts):
        fail(f"the page counts {value(tree, 'host-count')} hosts, the CSV {len(hosts)}")
    # the top flow's packet strip: as many packets as the CSV says were scored
    strip = tree.by_id("strip-1")
    if strip is None or int(strip.attrs["data-total"]) != int(rows[0]["packets_scored"]):
        fail("the top flow's packet strip does not hold its scored packets")
    # strings from the input arrive as text
    if any(n.tag == "b" for n in tree.by_id("top-flows").walk()):
        fail("a label name became markup in the page")
    cells = [n.all_text() for n in tree.by_id("top-flows").walk() if n.tag == "td"]
    if HOSTILE_LABEL not in cells:
        fail("the hostile label name is not shown as text in the top flows")
    if odd not in [n.all_text() for n in tree.by_id("inputs").walk() if n.tag == "td"]:
        fail("the input path with markup in it is not shown as text")
    # provenance: each input's SHA-256 as hashlib computes it
    for row in (n for n in tree.by_id("inputs").walk() if n.tag == "tr"):
        cells = [c.all_text() for c in row.children if c.tag == "td"]
        if cells and cells[-1] != hashlib.sha256(open(cells[0], "rb").read()).hexdigest():
            fail(f"the page's SHA-256 of {cells[0]} is not hashlib's")
    # an output error: exit 4, one line naming the file, nothing left behind
    bad = os.path.join(td, "missing", "r.html")
    q = run(ssmflow, "score", "-q", "--report", bad, scan, ok=(4,))
    if q.stderr.count("\n") != 1 or bad not in q.stderr or os.path.exists(os.path.dirname(bad)):
        fail(f"--report into a missing directory: {q.stderr!r}")
    print(f"labelled run: ROC-AUC {value(tree, 'roc-auc'):.4f} = scikit-learn, PR-AUC "
          f"{value(tree, 'pr-auc'):.4f}, confusion matrix at 8 = the CSV's; page "
          f"{size / 1024:.0f} KiB")


def generated_run(ssmflow, exe, td, nflows, what, *opts):
    cap = os.path.join(td, f"gen{nflows}.pcap")
    if nflows:
        pcapgen.write_many_udp_flows(cap, nflows)
    else:
        with open(cap, "wb") as f:
            f.write(pcapgen.header())
    out, page = os.path.join(td, f"g{nflows}.csv"), os.path.join(td, f"g{nflows}.html")
    run(ssmflow, "score", "-q", "-o", out, "--report", page, *opts, cap)
    rows = read_csv(out)
    size = check_static(page)
    tree, var, ink = render(exe, page, td)
    common_checks(tree, var, ink, rows, what)
    if nflows > 1:
        tl = tree.by_id("timeline").attrs
        if int(tl["data-flows"]) != nflows or int(tl["data-shown"]) > 4000:
            fail(f"{what}: the timeline should sample {nflows} flows to at most 4000: {tl}")
    return size


def main(ssmflow, data, large):
    exe = chromium()
    if not exe:
        print("SKIP: no chromium on PATH (Debian: apt-get install chromium); the report's "
              "browser test needs it")
        sys.exit(SKIP)
    with tmpdir() as td:
        if not large:
            labelled_run(ssmflow, exe, data, td)
            generated_run(ssmflow, exe, td, 0, "no flows")
            generated_run(ssmflow, exe, td, 1, "one flow")
        else:
            # the host level off: it is not what this measures, and it doubles the time
            size = generated_run(ssmflow, exe, td, 100000, "100k flows", "--host-weight", "0")
            if size > 4 << 20:
                fail(f"the 100k-flow page is {size / 1048576:.1f} MiB: it should hold "
                     "aggregates, not every flow")
            print(f"100k flows: page {size / 1024:.0f} KiB")
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1], os.path.abspath(sys.argv[2]), "--large" in sys.argv[3:])
