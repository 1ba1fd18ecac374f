"""Loading a model bundle: tensors through the safetensors library, everything else
(config, input normalisation, record version) from its __metadata__."""
import json

import torch
from safetensors import safe_open

FORMAT = "ssmflow-model"
FORMAT_VERSION = 1
ALIGN = 64
PAD_PREFIX = "__pad__."


class BundleError(Exception):
    pass


class Bundle:
    """config: dict (metadata 'config'); params: name -> float32 tensor; norm: list of
    feature dicts; consts: dict (gap_dt_scale, size_edges, gap_edges); meta: raw metadata."""

    def __init__(self, meta, params, file_dtype):
        self.meta = meta
        self.config = json.loads(meta["config"])
        self.norm = json.loads(meta["input_norm"])
        self.consts = json.loads(meta["norm_consts"])
        self.record_version = int(meta["record_version"])
        self.params = params
        self.file_dtype = file_dtype
        self.provenance = json.loads(meta["provenance"]) if "provenance" in meta else None


def load_bundle(path, device="cpu"):
    with safe_open(path, framework="pt", device=device) as f:
        meta = f.metadata() or {}
        if meta.get("format") != FORMAT:
            raise BundleError(f"{path}: not an ssmflow model bundle")
        if int(meta.get("format_version", "0")) != FORMAT_VERSION:
            raise BundleError(f"{path}: bundle format version {meta.get('format_version')}, "
                              f"this consumer reads {FORMAT_VERSION}")
        params, dtypes = {}, set()
        for name in f.keys():
            if name.startswith(PAD_PREFIX):
                continue
            t = f.get_tensor(name)
            dtypes.add(t.dtype)
            params[name] = t.to(torch.float32)  # the model runs in float32
    if len(dtypes) != 1:
        raise BundleError(f"{path}: tensors of several dtypes {sorted(map(str, dtypes))}")
    b = Bundle(meta, params, dtypes.pop())
    c = b.config
    for name in ("embed.weight", "head.weight", "norm_f.weight"):
        if name not in params:
            raise BundleError(f"{path}: tensor {name} is missing")
    if c["n_features"] != len(b.norm):
        raise BundleError(f"{path}: {len(b.norm)} input features, config says "
                          f"{c['n_features']}")
    return b
