"""ckpt.py - reads ssmflow checkpoint files (ssm/checkpoint.c layout) for the train tests:
the section table, one section's bytes, the metadata and the training state."""
import json
import struct

TSTATE_FIELDS = ("version done step epoch batch rng fingerprint val_fingerprint n_params "
                 "best_epoch bad_epochs best_val epoch_loss_sum epoch_pred").split()


def sections(path):
    with open(path, "rb") as f:
        buf = f.read()
    assert buf[:8] == b"SSMFCKPT", f"{path}: bad magic"
    nsec = struct.unpack_from("<I", buf, 16)[0]
    out = {}
    for s in range(nsec):
        e = 64 + 32 * s
        name = buf[e:e + 8].rstrip(b"\0").decode()
        off, size = struct.unpack_from("<QQ", buf, e + 8)
        out[name] = buf[off:off + size]
    return out


def meta(path):
    return json.loads(sections(path)["META"].decode())


def tstate(path):
    raw = sections(path)["TSTATE"]
    vals = struct.unpack("<QQqqqQQQQqqddd", raw)
    return dict(zip(TSTATE_FIELDS, vals))


def params(path):
    return sections(path)["PARAMS"]
