"""Saving and loading state dicts and checkpoints: ``mg.save(obj, path)`` / ``mg.load(path)``.

The file is a plain ``.npz`` archive that loads with ``allow_pickle=False``:
every array (a Tensor's data, a NumPy or CuPy array) is stored as its own
entry ``array_0``, ``array_1``, ...; the shape of ``obj`` around them (dicts
with their key order, lists, tuples, and int/float/bool/str/None values) is
stored as a JSON string in the entry ``__minigrad__``. ``load`` rebuilds the
same structure with NumPy arrays in place of tensors and arrays.

``save`` writes a temporary file beside ``path`` and renames it over
``path`` only once it is complete, so a crash mid-save leaves the previous
file intact.
"""
import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import backend

FORMAT = "minigrad-save"
FORMAT_VERSION = 1
_STRUCTURE_KEY = "__minigrad__"


def save(obj, path):
    """Write ``obj`` (nested dicts/lists/tuples of tensors, arrays and scalars) to ``path``."""
    path = Path(path)
    arrays = {}
    structure = _encode(obj, arrays, where="obj")
    header = {"format": FORMAT, "version": FORMAT_VERSION, "structure": structure}
    arrays[_STRUCTURE_KEY] = np.array(json.dumps(header))
    with atomic_file(path) as f:
        np.savez(f, **arrays)


def load(path):
    """Read a file written by :func:`save`; tensors and arrays come back as NumPy arrays."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"minigrad.load: no such file: {path}")
    not_ours = f"minigrad.load: {path} is not a file written by minigrad.save"
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{not_ours} ({error})") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{not_ours} (it holds a single .npy array)")
    with archive:
        if _STRUCTURE_KEY not in archive.files:
            raise ValueError(f"{not_ours} (an .npz without the '{_STRUCTURE_KEY}' entry)")
        header = json.loads(str(archive[_STRUCTURE_KEY]))
        if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
            raise ValueError(f"minigrad.load: {path} has format {header.get('format')!r} version "
                             f"{header.get('version')!r}, expected {FORMAT!r} version {FORMAT_VERSION}")
        return _decode(header["structure"], archive)


def _encode(obj, arrays, where):
    """The JSON description of ``obj``; arrays go into ``arrays`` under fresh keys."""
    # bool before int: True is an int in Python, but must come back as True.
    if obj is None or isinstance(obj, (bool, str)):
        return {"type": "value", "value": obj}
    if isinstance(obj, int):
        return {"type": "value", "value": int(obj)}
    if isinstance(obj, float):
        return {"type": "float", "value": repr(float(obj))}  # repr keeps nan/inf and every digit
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, str):
                raise TypeError(f"minigrad.save: {where} has key {key!r} of type {type(key).__name__}; "
                                f"only str keys can be saved")
        return {"type": "dict",
                "items": [[key, _encode(value, arrays, f"{where}[{key!r}]")] for key, value in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"type": type(obj).__name__,
                "items": [_encode(value, arrays, f"{where}[{i}]") for i, value in enumerate(obj)]}
    array = _as_numpy(obj)
    if array is None:
        raise TypeError(f"minigrad.save: {where} is a {type(obj).__module__}.{type(obj).__name__}; "
                        f"expected a Tensor, an array, a dict, list or tuple, or int/float/bool/str/None")
    if array.dtype == object:
        raise TypeError(f"minigrad.save: {where} is an array of Python objects, which cannot be saved without pickle")
    key = f"array_{len(arrays)}"
    arrays[key] = array
    # A NumPy scalar (np.float32(1.5)) is stored as a 0-d array and comes back as a NumPy scalar.
    return {"type": "numpy_scalar" if isinstance(obj, np.generic) else "array", "key": key}


def _as_numpy(obj):
    """A NumPy array for a Tensor, NumPy/CuPy array or NumPy scalar; None for anything else."""
    if isinstance(obj, (np.ndarray, np.generic)):
        return np.asarray(obj)
    if hasattr(obj, "__cuda_array_interface__"):
        return backend.to_numpy(obj)
    if hasattr(obj, "data") and callable(getattr(obj, "numpy", None)):  # a minigrad Tensor or Parameter
        return backend.to_numpy(obj.data)
    return None


def _decode(node, archive):
    kind = node["type"]
    if kind == "value":
        return node["value"]
    if kind == "float":
        return float(node["value"])
    if kind == "dict":
        return {key: _decode(value, archive) for key, value in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(value, archive) for value in node["items"]]
        return items if kind == "list" else tuple(items)
    if kind == "array":
        return archive[node["key"]]
    if kind == "numpy_scalar":
        return archive[node["key"]][()]
    raise ValueError(f"unknown entry type {kind!r}")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_file(path):
    """Open a temporary file beside ``path`` for binary writing; rename it to ``path`` once complete.

    If the body raises, the temporary file is removed and ``path`` keeps
    whatever it held before: readers never see a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False) as f:
        temporary = Path(f.name)
        try:
            # NamedTemporaryFile is private (0600); give the result the usual permissions.
            os.chmod(temporary, 0o666 & ~_umask())
            yield f
            f.flush()
            os.fsync(f.fileno())
        except BaseException:
            f.close()
            temporary.unlink()
            raise
    os.replace(temporary, path)
