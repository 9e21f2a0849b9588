"""Saving and loading state dicts and checkpoints: ``mg.save(obj, path)`` / ``mg.load(path)``.

The file is a plain ``.npz`` archive that loads with ``allow_pickle=False``:
every array (a Tensor's data, a NumPy or CuPy array) is stored as its own
entry ``array_0``, ``array_1``, ...; the shape of ``obj`` around them (dicts
with their key order, lists, tuples, and int/float/bool/str/None values) is
stored as a JSON string in the entry ``__minigrad__``. ``load`` rebuilds the
same structure with NumPy arrays in place of tensors and arrays.

``save`` writes a temporary file beside ``path`` and renames it over
``path`` only once it is complete, so a crash mid-save leaves the previous
file intact. Every failure removes the temporary file; one that a killed
process could not remove carries that process's id in its name
(``.state.npz.<pid>.<random>.tmp``), and the next save of the same target
sweeps it away once that process is gone.

``load`` checks what it reads: a damaged archive or a forged header gives
one ValueError naming the file, the entry and what is wrong.
"""
import contextlib
import glob
import json
import os
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import backend

FORMAT = "minigrad-save"
FORMAT_VERSION = 1
_STRUCTURE_KEY = "__minigrad__"
# Deeper structures are refused on save and on load: rebuilding them would exhaust Python's recursion limit.
MAX_DEPTH = 100


# How zipfile and numpy fail on a damaged archive: a bad CRC or zip structure, a garbled compression
# stream or method number, a bad .npy header, a short read, an absurd announced size.
_DAMAGE = (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, NotImplementedError, RuntimeError,
           MemoryError, struct.error)


class _Damaged(Exception):
    """What is wrong inside a file being loaded; load() adds the file's path."""


def save(obj, path):
    """Write ``obj`` (nested dicts/lists/tuples of tensors, arrays and scalars) to ``path``."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"minigrad.save: {path} is a folder; give the path of a file, "
                                f"such as {path / 'state.npz'}")
    arrays = {}
    structure = _encode(obj, arrays, where="obj", depth=0)
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
    except _DAMAGE as error:
        raise ValueError(f"{not_ours} ({type(error).__name__}: {error})") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{not_ours} (it holds a single .npy array)")
    with archive:
        if _STRUCTURE_KEY not in archive.files:
            raise ValueError(f"{not_ours} (an .npz without the '{_STRUCTURE_KEY}' entry)")
        try:
            header = _read_header(archive)
            if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
                raise ValueError(f"minigrad.load: {path} has format {header.get('format')!r} version "
                                 f"{header.get('version')!r}, expected {FORMAT!r} version {FORMAT_VERSION}")
            return _decode(header.get("structure"), archive, where="obj", depth=0)
        except _Damaged as problem:
            raise ValueError(f"minigrad.load: {path} is damaged or forged: {problem}") from None


def _read_header(archive):
    raw = _entry(archive, _STRUCTURE_KEY)
    if raw.dtype.kind != "U" or raw.shape != ():
        raise _Damaged(f"entry '{_STRUCTURE_KEY}' should be a JSON string, it is a {raw.dtype} array of shape "
                       f"{raw.shape}")
    try:
        header = json.loads(str(raw))
    except (ValueError, RecursionError) as error:
        raise _Damaged(f"entry '{_STRUCTURE_KEY}' is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise _Damaged(f"entry '{_STRUCTURE_KEY}' should hold a JSON object, it holds a {type(header).__name__}")
    return header


def _entry(archive, key):
    """One array of the archive; a damaged member (bad CRC, bad compression, bad .npy header) is named."""
    try:
        return archive[key]
    except _DAMAGE as error:
        raise _Damaged(f"entry {key!r} cannot be read ({type(error).__name__}: {error})") from None


def _encode(obj, arrays, where, depth):
    """The JSON description of ``obj``; arrays go into ``arrays`` under fresh keys."""
    if depth > MAX_DEPTH:
        raise ValueError(f"minigrad.save: {where} is nested more than {MAX_DEPTH} levels deep")
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
                "items": [[key, _encode(value, arrays, f"{where}[{key!r}]", depth + 1)]
                          for key, value in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"type": type(obj).__name__,
                "items": [_encode(value, arrays, f"{where}[{i}]", depth + 1) for i, value in enumerate(obj)]}
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
    if isinstance(obj, (np.ndarray, np.generic)) or hasattr(obj, "__cuda_array_interface__") or (
            hasattr(obj, "data") and callable(getattr(obj, "numpy", None))):  # a minigrad Tensor or Parameter
        return backend.to_numpy(obj)
    return None


def _decode(node, archive, where, depth):
    """Rebuild one node of the structure, checking every field a forged header could get wrong."""
    if depth > MAX_DEPTH:
        raise _Damaged(f"{where} is nested more than {MAX_DEPTH} levels deep")
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        raise _Damaged(f"{where} should be described by an object with a 'type', found {_shown(node)}")
    kind = node["type"]
    if kind == "value":
        value = node.get("value")
        if value is not None and not isinstance(value, (bool, int, str)):
            raise _Damaged(f"{where} should be an int, bool, str or null, found {_shown(value)}")
        return value
    if kind == "float":
        try:
            return float(node["value"])
        except (KeyError, TypeError, ValueError):
            raise _Damaged(f"{where} should be a float written as a string, found {_shown(node.get('value'))}") \
                from None
    if kind in ("dict", "list", "tuple"):
        items = node.get("items")
        if not isinstance(items, list):
            raise _Damaged(f"{where} is a {kind} without a list of items, found {_shown(items)}")
        if kind == "dict":
            if not all(isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) for item in items):
                raise _Damaged(f"{where} is a dict whose items are not [str key, value] pairs")
            return {key: _decode(value, archive, f"{where}[{key!r}]", depth + 1) for key, value in items}
        values = [_decode(value, archive, f"{where}[{i}]", depth + 1) for i, value in enumerate(items)]
        return values if kind == "list" else tuple(values)
    if kind in ("array", "numpy_scalar"):
        key = node.get("key")
        if not isinstance(key, str) or key == _STRUCTURE_KEY or key not in archive.files:
            raise _Damaged(f"{where} refers to the array entry {_shown(key)}, which the archive does not hold")
        array = _entry(archive, key)
        if kind == "array":
            return array
        if array.shape != ():
            raise _Damaged(f"{where} should be a NumPy scalar, entry {key!r} has shape {array.shape}")
        return array[()]
    raise _Damaged(f"{where} has the unknown type {_shown(kind)}")


def _shown(value):
    """A short repr for messages: a forged header may hold anything, of any size."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def default_file_mode():
    """The permissions a new file gets from the user's umask (0644 under the usual umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _temporary_prefix(path):
    return f".{path.name}."


def process_alive(pid):
    try:
        os.kill(pid, 0)  # signal 0 checks that the process exists without touching it
    except (ProcessLookupError, OverflowError):  # OverflowError: a number no process id can be
        return False
    except PermissionError:
        return True  # it exists, it belongs to someone else
    return True


def remove_stale_temporaries(path):
    """Remove the temporary files of ``path`` left by processes that died while writing it.

    A temporary file's name holds its writer's process id; one whose process
    still runs (this one included) may be in use and is left alone.
    """
    path = Path(path)
    prefix = _temporary_prefix(path)
    for temporary in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        parts = temporary.name[len(prefix):].split(".")  # pid, mkstemp's random letters, "tmp"
        if len(parts) != 3 or not parts[0].isdigit():
            continue  # another target's temporary (path "a" and "a.5"), or not one of ours
        pid = int(parts[0])
        if pid != os.getpid() and not process_alive(pid):
            temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_file(path):
    """Open a temporary file beside ``path`` for binary writing; rename it to ``path`` once complete.

    If anything fails (the body, the final flush on a full disk, the rename),
    the temporary file is removed and ``path`` keeps whatever it held before:
    readers never see a half-written file. Stale temporary files of ``path``
    from killed processes are swept first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f"{_temporary_prefix(path)}{os.getpid()}.",
                                        suffix=".tmp")
    temporary = Path(name)
    try:
        with open(descriptor, "wb") as f:
            # mkstemp's file is private (0600); give the result the usual permissions.
            os.chmod(temporary, default_file_mode())
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
