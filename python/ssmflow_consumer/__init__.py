"""ssmflow_consumer - the reference consumer of an `ssmflow export` bundle.

Loads the model the way the live pipeline does (the safetensors library, the metadata for
everything that is not a tensor), maps per-packet records with torch.frombuffer, and scores
them in sequence mode (whole flows) or step mode (one packet of many flows at a time);
hosts.py builds and scores the host level's event sequences and their activity.
Written from docs/model.md; it shares no code with the C model.
"""
from .bundle import Bundle, load_bundle
from .records import RECORD_DTYPE, read_stream, records_from_buffer
from .model import evidence_score, sequence_scores, step_scores
from .hosts import activity_scores, event_surprises, host_events

__all__ = ["Bundle", "load_bundle", "RECORD_DTYPE", "read_stream", "records_from_buffer",
           "sequence_scores", "step_scores", "event_surprises", "host_events",
           "activity_scores", "evidence_score"]
