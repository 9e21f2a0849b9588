"""Finding, checking and downloading the raw dataset files.

Every dataset lives in one folder (``mnist/``, ``fashion-mnist/``,
``ecg5000/``) holding its original files under their original names.  A file
is looked for, in this order:

1. ``root/<folder>/`` when the caller passes ``root=``;
2. ``$MINIGRAD_DATA/<folder>/``;
3. the user cache, ``$XDG_CACHE_HOME/minigrad/<folder>/`` (``~/.cache/minigrad``);
4. well-known system copies (Debian's ``dataset-fashion-mnist`` package);
5. a download from the mirrors in :data:`MIRRORS` into the user cache (set
   ``MINIGRAD_DATA_MIRROR=URL`` to download instead from a server laid out
   like ``$MINIGRAD_DATA``; a ``file:///shared/folder/`` URL copies from a
   mounted share, as teachers mirror the datasets).

A ``root=`` that is not a folder is an error (it never falls back silently
to the other places). A file found anywhere must match one of its pinned
SHA-256 digests; one that does not is named in a :class:`ChecksumError` and
never read.  Downloads go into a scratch folder in the cache named after the
downloading process (``.download-<pid>-...``); a file is renamed into place
only once its checksum matches, so no half-written file ever sits under a
final name, and the scratch folder of a download that was killed is removed
by the next download into that cache folder.
"""
import contextlib
import hashlib
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pooch

from ..io import default_file_mode, process_alive


class DatasetNotFoundError(FileNotFoundError):
    """No copy of a dataset file was found locally and none could be downloaded."""


class ChecksumError(ValueError):
    """A dataset file exists but its content is not the pinned one."""


@dataclass(frozen=True)
class Source:
    """One dataset: its folder name, its files and their accepted SHA-256 digests."""
    title: str
    folder: str
    function: str         # the minigrad.data function that loads it, for messages
    sha256: dict          # file name -> tuple of accepted digests
    system_dirs: tuple = field(default=())


# Debian's fashion-mnist copies carry a rewritten gzip header (no stored name,
# a 2020 mtime) around the very same deflate stream, so they decompress to the
# official bytes; both digests are accepted.
SOURCES = {
    "mnist": Source("MNIST", "mnist", "mnist", {
        "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",),
        "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",),
        "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",),
        "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",),
    }),
    "fashion-mnist": Source("Fashion-MNIST", "fashion-mnist", "fashion_mnist", {
        "train-images-idx3-ubyte.gz": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                                       "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"),
        "train-labels-idx1-ubyte.gz": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                                       "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"),
        "t10k-images-idx3-ubyte.gz": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                                      "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"),
        "t10k-labels-idx1-ubyte.gz": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                                      "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),
    }, system_dirs=("/usr/share/datasets/fashion-mnist",)),
    "ecg5000": Source("ECG5000", "ecg5000", "ecg5000", {
        "ECG5000_TRAIN.txt": ("0d96aff193311a6dc6111bf0dbd2f7d2313987fbf7a1da4a383d92563876057b",),
        "ECG5000_TEST.txt": ("baf4ad57d28daa5e79050edd4185968181762bc83d45a757753015b4ba8ab295",),
    }),
}

# Where to download from, tried in order.  A URL ending in "/" is a folder
# holding the files under their own names; a URL ending in ".zip" is an
# archive holding them.  Replace the lists (or set MINIGRAD_DATA_MIRROR to a
# server laid out like $MINIGRAD_DATA) to use another server.
MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "fashion-mnist": [
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
    "ecg5000": [
        "https://www.timeseriesclassification.com/aeon-toolkit/ECG5000.zip",
        "http://www.timeseriesclassification.com/Downloads/ECG5000.zip",
    ],
}

DOWNLOAD_TIMEOUT_S = 30

# path -> (size, mtime_ns) of files whose checksum already matched in this
# process: the shared copies are hashed once, not on every call.
_verified = {}


def cache_dir():
    """The user cache, ``$XDG_CACHE_HOME/minigrad`` or ``~/.cache/minigrad``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minigrad"


def fetch(dataset, filename, root=None):
    """Return the path of a verified copy of ``filename`` of ``dataset``.

    Looks in the places listed in the module docstring, then downloads.
    Raises ChecksumError for a corrupt copy, DatasetNotFoundError when no copy
    can be had.
    """
    source = SOURCES[dataset]
    if root is not None and not Path(root).expanduser().is_dir():
        raise DatasetNotFoundError(f"root={root} (--data-dir in the lessons) is not a folder; expected one "
                                   f"holding {source.folder}/{filename}")
    looked = []
    for place, folder in _local_places(source, root):
        if folder is None:
            looked.append(place)
            continue
        path = folder / filename
        looked.append(f"{place}: {path}")
        if path.is_file():
            verify(path, source.sha256[filename])
            return path

    cache = cache_dir() / source.folder
    made = [folder for folder in (cache, cache.parent) if not folder.exists()]  # a failed download removes them
    failures, wrong_content = [], []
    for mirror in _mirrors(dataset):
        try:
            _download(mirror, source, filename)
            return cache_dir() / source.folder / filename
        except Exception as error:  # any failure of one mirror just moves on to the next
            shown_url = mirror if mirror.endswith(".zip") else mirror + filename
            failures.append(f"{shown_url}: {_root_cause(error)}")
            if isinstance(error, ChecksumError):
                wrong_content.append(f"{shown_url}: {error}")
    for folder in made:
        with contextlib.suppress(OSError):  # not empty: another download (another process) put a file there
            folder.rmdir()
    if wrong_content:
        raise ChecksumError(_wrong_content_message(source, filename, wrong_content, failures))
    raise DatasetNotFoundError(_not_found_message(source, filename, looked, failures))


def verify(path, accepted_digests):
    """Raise ChecksumError unless the file's SHA-256 is one of ``accepted_digests``."""
    path = Path(path)
    stat = path.stat()
    signature = (stat.st_size, stat.st_mtime_ns)
    key = path.resolve()
    if _verified.get(key) == signature:
        return
    digest = sha256_of(path)
    if digest not in accepted_digests:
        raise ChecksumError(
            f"{path} is corrupt or not the expected file: its SHA-256 is {digest}, "
            f"expected {' or '.join(accepted_digests)}. Delete it (or replace it with a good copy) and retry.")
    _verified[key] = signature


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _local_places(source, root):
    """(description, folder or None) for each local place, in lookup order."""
    data_env = os.environ.get("MINIGRAD_DATA")
    yield ("root=", Path(root).expanduser() / source.folder) if root else ("root= (not given)", None)
    if data_env:
        yield "$MINIGRAD_DATA", Path(data_env).expanduser() / source.folder
    else:
        yield "$MINIGRAD_DATA (not set)", None
    yield "user cache", cache_dir() / source.folder
    for system_dir in source.system_dirs:
        yield "system copy", Path(system_dir)


def _mirrors(dataset):
    override = os.environ.get("MINIGRAD_DATA_MIRROR")
    if override:
        return [override.rstrip("/") + "/" + SOURCES[dataset].folder + "/"]
    return MIRRORS[dataset]


def _download(mirror, source, filename):
    """Download ``filename`` (or the archive holding it) from one mirror into the cache."""
    target_dir = cache_dir() / source.folder
    target_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_downloads(target_dir)
    with tempfile.TemporaryDirectory(dir=target_dir, prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-") as scratch:
        scratch = Path(scratch)
        if mirror.endswith(".zip"):
            # The archive has no pinned digest; the files taken out of it do.
            archive = _fetch_url(mirror, scratch / "archive.zip")
            _extract_verified(archive, source, target_dir, scratch, filename)
            return
        downloaded = _fetch_url(mirror + filename, scratch / filename)
        _verify_download(downloaded, source.sha256[filename])
        _publish(downloaded, target_dir / filename)


_SCRATCH_PREFIX = ".download-"


def _remove_stale_downloads(target_dir):
    """Remove the scratch folders of downloads whose process died (killed mid-way, say)."""
    for scratch in target_dir.glob(f"{_SCRATCH_PREFIX}*"):
        pid = scratch.name[len(_SCRATCH_PREFIX):].split("-", 1)[0]
        if scratch.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            shutil.rmtree(scratch, ignore_errors=True)


def _fetch_url(url, destination):
    """Copy ``url`` (http, https or file) to ``destination``; return ``destination``."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        shutil.copyfile(urllib.request.url2pathname(parsed.path), destination)
    else:
        _http_with_progress_bar()(url, str(destination), None)
    return destination


def _http_with_progress_bar():
    return pooch.HTTPDownloader(progressbar=True, timeout=DOWNLOAD_TIMEOUT_S)


def _verify_download(path, accepted_digests):
    digest = sha256_of(path)
    if digest not in accepted_digests:
        raise ChecksumError(f"the download is not the expected file: its SHA-256 is {digest}, "
                            f"expected {' or '.join(accepted_digests)}; it was not kept")


def _publish(path, final):
    """Move a verified file to its final name, readable as any file the user makes."""
    os.chmod(path, default_file_mode())
    os.replace(path, final)


def _extract_verified(archive, source, target_dir, scratch, wanted):
    """Move every pinned file of the archive whose checksum matches into ``target_dir``.

    A member with the wrong content is skipped (the others are still good);
    it is an error only when it is ``wanted``.
    """
    bad = None
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            name = os.path.basename(member)
            if name not in source.sha256:
                continue
            extracted = Path(zf.extract(member, scratch))
            try:
                _verify_download(extracted, source.sha256[name])
            except ChecksumError as error:
                if name == wanted:
                    bad = error
                continue
            _publish(extracted, target_dir / name)
    if not (target_dir / wanted).is_file():
        raise bad or FileNotFoundError(f"the archive has no {wanted}")


def _root_cause(error):
    """The innermost error's message ("[Errno 111] Connection refused"), not the wrappers' tracebacks."""
    while error.__cause__ or error.__context__:
        error = error.__cause__ or error.__context__
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:200]


def _wrong_content_message(source, filename, wrong_content, failures):
    lines = [f"{source.title} file {filename}: the download is not the expected file, so nothing was kept.",
             *[f"  - {problem}" for problem in wrong_content],
             "The mirror may serve another version of the dataset, or a proxy may have altered it. All downloads tried:"]
    lines += [f"  - {failure}" for failure in failures]
    lines += [f"Put a good copy of {source.folder}/{filename} under $MINIGRAD_DATA (original file names), or set "
              f"MINIGRAD_DATA_MIRROR to a mirror you trust."]
    return "\n".join(lines)


def _not_found_message(source, filename, looked, failures):
    cache = cache_dir() / source.folder
    connected = (f"on a connected machine, run python -c \"import minigrad.data as d; d.{source.function}()\" "
                 f"(it downloads into {cache}) and copy that folder to the same place here")
    second_fix = (f"install the system package (sudo apt install dataset-fashion-mnist), or {connected}"
                  if source.system_dirs else connected)
    lines = [f"{source.title} file {filename} was not found, and it could not be downloaded.", "Looked in:"]
    lines += [f"  - {place}" for place in looked]
    lines += ["Downloads tried:"] + [f"  - {failure}" for failure in failures or ["(no mirrors configured)"]]
    lines += ["Fix it in one of two ways:",
              f"  1. set MINIGRAD_DATA to a folder holding {source.folder}/{filename} "
              f"(original file names; root= and --data-dir take the same layout);",
              f"  2. {second_fix}."]
    return "\n".join(lines)
