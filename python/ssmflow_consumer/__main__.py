"""python3 -m ssmflow_consumer MODEL.safetensors RECORDS|- [--mode step|sequence] [-o OUT]

Scores a record stream (from `ssmflow extract --records`) with an exported model bundle and
writes one JSON line per flow: flow_id, score, components, packets_scored and, with
--per-packet, the packets' surprise and components (the names `ssmflow score` uses)."""
import argparse
import json
import sys

import torch

from .bundle import load_bundle
from .model import COMPONENTS, sequence_scores, step_scores
from .records import iter_stream_chunks, read_stream


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m ssmflow_consumer", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("records", help="record stream file, or - for stdin")
    ap.add_argument("--mode", choices=("step", "sequence"), default="step")
    ap.add_argument("--per-packet", action="store_true")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    try:
        b = load_bundle(a.model)
        if a.mode == "step" and a.records == "-":
            res = step_scores(b, iter_stream_chunks(sys.stdin.buffer, b.record_version))
        else:
            raw = read_stream(a.records, b.record_version)
            res = sequence_scores(b, raw) if a.mode == "sequence" else step_scores(b, [raw])
    except Exception as e:  # one line, as the C tools do
        print(f"ssmflow_consumer: error: {e}", file=sys.stderr)
        return 2
    out = sys.stdout if a.output == "-" else open(a.output, "w")
    for fid in sorted(res):
        r = res[fid]
        row = dict(flow_id=fid, score=r["score"], components=r["components"],
                   packets_scored=r["packets_scored"])
        if a.per_packet:
            row["packets"] = [dict(surprise=float(n.to(torch.float64).sum()),
                                   **dict(zip(COMPONENTS, n.tolist()))) for n in r["nll"]]
        out.write(json.dumps(row) + "\n")
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
