"""minigrad.data: dataset lookup, checksums, downloads and the DataLoader.

Every test writes its own small IDX / UCR files and serves downloads from a
local HTTP server on 127.0.0.1; the real datasets are checked only when
MINIGRAD_DATA points at them.
"""
import dataclasses
import gzip
import hashlib
import http.server
import io
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad.data as data
from minigrad.data import files


# ---------------------------------------------------------------- helpers

def idx_bytes(array):
    """An uncompressed IDX file of uint8 images (N, rows, cols) or labels (N,)."""
    magic = 2051 if array.ndim == 3 else 2049
    header = b"".join(int(v).to_bytes(4, "big") for v in (magic, *array.shape))
    return header + array.astype(np.uint8).tobytes()


def gz(raw, mtime=0):
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=mtime) as f:
        f.write(raw)
    return buffer.getvalue()


def sha256(blob):
    return hashlib.sha256(blob).hexdigest()


def small_mnist(seed=0, n=7):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    return images, labels


def mnist_files(images, labels, mtime=0):
    """{file name: gz bytes} of one IDX data set, used for both splits."""
    image_gz, label_gz = gz(idx_bytes(images), mtime), gz(idx_bytes(labels), mtime)
    return {"train-images-idx3-ubyte.gz": image_gz, "train-labels-idx1-ubyte.gz": label_gz,
            "t10k-images-idx3-ubyte.gz": image_gz, "t10k-labels-idx1-ubyte.gz": label_gz}


def ucr_text(series, labels):
    rows = np.column_stack([labels.astype(np.float64), series.astype(np.float64)])
    return "".join("".join(f"{v:16.7e}" for v in row) + "\n" for row in rows).encode()


def small_ecg(seed=0, n=9):
    rng = np.random.default_rng(seed)
    series = rng.standard_normal((n, 140)).astype(np.float32)
    labels = np.arange(n) % 5 + 1
    return series, labels


def write_folder(folder, blobs):
    folder.mkdir(parents=True, exist_ok=True)
    for name, blob in blobs.items():
        (folder / name).write_bytes(blob)


def pin(monkeypatch, dataset, *file_sets, system_dirs=()):
    """Make ``dataset`` accept exactly the digests of the given {name: bytes} sets."""
    digests = {}
    for blobs in file_sets:
        for name, blob in blobs.items():
            digests.setdefault(name, ())
            digests[name] += (sha256(blob),)
    source = dataclasses.replace(files.SOURCES[dataset], sha256=digests, system_dirs=tuple(system_dirs))
    monkeypatch.setitem(files.SOURCES, dataset, source)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No MINIGRAD_DATA, an empty private cache, no system copies, no mirrors."""
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.delenv("MINIGRAD_DATA_MIRROR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    for dataset in files.SOURCES:
        monkeypatch.setitem(files.SOURCES, dataset, dataclasses.replace(files.SOURCES[dataset], system_dirs=()))
        monkeypatch.setitem(files.MIRRORS, dataset, [])
    return tmp_path


class FileServer:
    """A local HTTP server for one test: serves ``files[path]`` and counts requests.

    ``truncate_to[path] = n`` announces the full length but sends only n bytes
    before closing the connection, like a download cut off mid-way;
    ``stall_after[path] = n`` sends n bytes and then waits until the server closes.
    """

    def __init__(self):
        self.files, self.truncate_to, self.stall_after, self.requests = {}, {}, {}, []
        self.closing = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                blob = server.files.get(self.path)
                if blob is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(blob)))
                self.end_headers()
                self.wfile.write(blob[:server.truncate_to.get(self.path, server.stall_after.get(self.path, len(blob)))])
                self.wfile.flush()
                if self.path in server.stall_after:
                    server.closing.wait(60)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    file_server = FileServer()
    yield file_server
    file_server.close()


def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: connecting fails at once."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def leftovers(folder):
    """Every file under ``folder`` (temporary files included)."""
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())


# ---------------------------------------------------------------- local files

def test_mnist_reads_idx_files_from_root(isolated, monkeypatch):
    images, labels = small_mnist()
    blobs = mnist_files(images, labels)
    write_folder(isolated / "root" / "mnist", blobs)
    pin(monkeypatch, "mnist", blobs)

    for split in ("train", "test"):
        x, y = data.mnist(split, root=isolated / "root")
        assert x.dtype == np.uint8 and x.shape == (7, 28, 28)
        assert y.dtype == np.int64 and y.shape == (7,)
        np.testing.assert_array_equal(x, images)
        np.testing.assert_array_equal(y, labels)


def test_fashion_mnist_reads_its_own_folder(isolated, monkeypatch):
    images, labels = small_mnist(seed=3)
    blobs = mnist_files(images, labels)
    write_folder(isolated / "data" / "fashion-mnist", blobs)
    pin(monkeypatch, "fashion-mnist", blobs)
    monkeypatch.setenv("MINIGRAD_DATA", str(isolated / "data"))

    x, y = data.fashion_mnist("test")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert len(data.FASHION_MNIST_CLASSES) == 10


def test_lookup_order_root_then_env_then_cache_then_system(isolated, monkeypatch):
    places = {name: isolated / name for name in ("root", "env", "xdg-cache/minigrad", "system")}
    copies = {name: small_mnist(seed=i) for i, name in enumerate(places)}
    blob_sets = {name: mnist_files(*copies[name]) for name in places}
    for name, folder in places.items():
        write_folder(folder / "mnist" if name != "system" else folder, blob_sets[name])
    pin(monkeypatch, "mnist", *blob_sets.values(), system_dirs=[places["system"]])
    monkeypatch.setenv("MINIGRAD_DATA", str(places["env"]))

    def loaded_from(**kwargs):
        x, _ = data.mnist("train", **kwargs)
        return next(name for name, (images, _) in copies.items() if np.array_equal(images, x))

    assert loaded_from(root=places["root"]) == "root"
    assert loaded_from() == "env"
    monkeypatch.delenv("MINIGRAD_DATA")
    assert loaded_from() == "xdg-cache/minigrad"
    monkeypatch.setenv("XDG_CACHE_HOME", str(isolated / "empty-cache"))
    assert loaded_from() == "system"


def test_cache_defaults_to_home_dot_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert files.cache_dir() == tmp_path / ".cache" / "minigrad"


def test_a_recompressed_copy_with_another_gzip_header_is_accepted(isolated, monkeypatch):
    # Debian's fashion-mnist files differ from the official ones only in the
    # gzip header; both digests are pinned, and both decode to the same arrays.
    images, labels = small_mnist()
    official, debian = mnist_files(images, labels, mtime=1), mnist_files(images, labels, mtime=2)
    assert official != debian
    write_folder(isolated / "debian", debian)
    pin(monkeypatch, "fashion-mnist", official, debian, system_dirs=[isolated / "debian"])

    x, y = data.fashion_mnist("train")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_the_debian_digests_are_pinned_for_fashion_mnist():
    pinned = files.SOURCES["fashion-mnist"]
    assert "/usr/share/datasets/fashion-mnist" in pinned.system_dirs
    assert all(len(digests) == 2 for digests in pinned.sha256.values())


def test_arrays_are_cached_read_only_and_checksummed_once(isolated, monkeypatch):
    images, labels = small_mnist()
    blobs = mnist_files(images, labels)
    write_folder(isolated / "root" / "mnist", blobs)
    pin(monkeypatch, "mnist", blobs)
    hashed = []
    real_sha256_of = files.sha256_of
    monkeypatch.setattr(files, "sha256_of", lambda path: hashed.append(path) or real_sha256_of(path))

    x1, y1 = data.mnist("train", root=isolated / "root")
    x2, y2 = data.mnist("train", root=isolated / "root")
    assert x1 is x2 and y1 is y2
    assert len(hashed) == 2  # images and labels, once each
    assert not x1.flags.writeable and not y1.flags.writeable
    with pytest.raises(ValueError):
        x1[0, 0, 0] = 1


def test_checksum_failure_names_the_file_and_never_uses_it(isolated, monkeypatch):
    images, labels = small_mnist()
    blobs = mnist_files(images, labels)
    pin(monkeypatch, "mnist", blobs)
    corrupt = dict(blobs, **{"train-images-idx3-ubyte.gz": blobs["train-images-idx3-ubyte.gz"][:-10]})
    write_folder(isolated / "root" / "mnist", corrupt)

    with pytest.raises(data.ChecksumError) as error:
        data.mnist("train", root=isolated / "root")
    message = str(error.value)
    assert str(isolated / "root" / "mnist" / "train-images-idx3-ubyte.gz") in message
    assert sha256(blobs["train-images-idx3-ubyte.gz"]) in message


def test_a_bad_idx_file_is_named_in_the_error(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(gz(b"\x00\x00\x09\x99" + bytes(20)))
    with pytest.raises(ValueError, match="bad.gz.*magic number"):
        data.datasets.read_idx(path)
    path.write_bytes(gz(idx_bytes(np.zeros((3, 28, 28)))[:-5]))
    with pytest.raises(ValueError, match="bad.gz.*header announces shape"):
        data.datasets.read_idx(path)


def test_split_is_checked(isolated):
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'valid'"):
        data.mnist("valid")


def test_ecg5000_reads_ucr_files(isolated, monkeypatch):
    series, labels = small_ecg()
    blobs = {"ECG5000_TRAIN.txt": ucr_text(series, labels), "ECG5000_TEST.txt": ucr_text(series[:4], labels[:4])}
    write_folder(isolated / "root" / "ecg5000", blobs)
    pin(monkeypatch, "ecg5000", blobs)

    x, y = data.ecg5000("train", root=isolated / "root")
    assert x.dtype == np.float32 and x.shape == (9, 140)
    assert y.dtype == np.int64
    np.testing.assert_allclose(x, series, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    assert data.ecg5000("test", root=isolated / "root")[0].shape == (4, 140)

    x, is_anomaly = data.ecg5000_anomaly("train", root=isolated / "root")
    assert is_anomaly.dtype == bool
    np.testing.assert_array_equal(is_anomaly, labels != 1)
    assert data.ECG5000_CLASSES[1] == "normal"


# ---------------------------------------------------------------- downloads

def test_download_lands_in_the_cache_and_is_reused(isolated, monkeypatch, server):
    images, labels = small_mnist()
    blobs = mnist_files(images, labels)
    pin(monkeypatch, "mnist", blobs)
    server.files.update({f"/mnist/{name}": blob for name, blob in blobs.items()})
    monkeypatch.setitem(files.MIRRORS, "mnist", [server.url + "/mnist/"])

    x, y = data.mnist("train")
    np.testing.assert_array_equal(x, images)
    cache = isolated / "xdg-cache" / "minigrad" / "mnist"
    assert leftovers(cache) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    requests_made = len(server.requests)
    data.mnist("train")
    assert len(server.requests) == requests_made


def test_next_mirror_is_tried_when_one_fails(isolated, monkeypatch, server):
    images, labels = small_mnist()
    blobs = mnist_files(images, labels)
    pin(monkeypatch, "mnist", blobs)
    server.files.update({f"/good/{name}": blob for name, blob in blobs.items()})
    monkeypatch.setitem(files.MIRRORS, "mnist", [closed_port_url(), server.url + "/missing/", server.url + "/good/"])

    x, _ = data.mnist("test")
    np.testing.assert_array_equal(x, images)


def test_mirror_override_by_environment(isolated, monkeypatch, server):
    series, labels = small_ecg()
    blobs = {"ECG5000_TRAIN.txt": ucr_text(series, labels)}
    pin(monkeypatch, "ecg5000", blobs)
    server.files["/ecg5000/ECG5000_TRAIN.txt"] = blobs["ECG5000_TRAIN.txt"]
    monkeypatch.setenv("MINIGRAD_DATA_MIRROR", server.url)

    np.testing.assert_array_equal(data.ecg5000("train")[1], labels)


def test_a_failed_lookup_leaves_no_empty_cache_folder_behind(isolated, monkeypatch, server):
    monkeypatch.setitem(files.MIRRORS, "mnist", [server.url + "/nothing-here/"])
    with pytest.raises(data.DatasetNotFoundError):
        data.mnist("train")
    assert not (isolated / "xdg-cache" / "minigrad").exists()


def test_truncated_download_fails_cleanly_and_a_retry_succeeds(isolated, monkeypatch, server):
    images, labels = small_mnist(n=50)
    blobs = mnist_files(images, labels)
    pin(monkeypatch, "mnist", blobs)
    server.files.update({f"/mnist/{name}": blob for name, blob in blobs.items()})
    image_url = "/mnist/train-images-idx3-ubyte.gz"
    server.truncate_to[image_url] = len(blobs["train-images-idx3-ubyte.gz"]) // 2
    monkeypatch.setitem(files.MIRRORS, "mnist", [server.url + "/mnist/"])
    cache = isolated / "xdg-cache" / "minigrad" / "mnist"

    with pytest.raises(data.DatasetNotFoundError, match="train-images-idx3-ubyte.gz"):
        data.mnist("train")
    assert image_url in server.requests
    assert "train-images-idx3-ubyte.gz" not in leftovers(cache)
    assert all(not name.startswith("tmp") for name in leftovers(cache))

    del server.truncate_to[image_url]
    x, _ = data.mnist("train")
    np.testing.assert_array_equal(x, images)


def test_a_download_with_the_wrong_content_is_rejected(isolated, monkeypatch, server):
    images, labels = small_mnist()
    blobs = mnist_files(images, labels)
    pin(monkeypatch, "mnist", blobs)
    tampered = dict(blobs, **{"t10k-labels-idx1-ubyte.gz": gz(idx_bytes(labels[::-1] + 1))})
    server.files.update({f"/mnist/{name}": blob for name, blob in tampered.items()})
    monkeypatch.setitem(files.MIRRORS, "mnist", [server.url + "/mnist/"])

    with pytest.raises(data.ChecksumError) as error:
        data.mnist("test")
    message = str(error.value)
    assert message.startswith("MNIST file t10k-labels-idx1-ubyte.gz: the download is not the expected file")
    assert f"{server.url}/mnist/t10k-labels-idx1-ubyte.gz: the download is not the expected file: its SHA-256 is " \
           f"{sha256(tampered['t10k-labels-idx1-ubyte.gz'])}, expected {sha256(blobs['t10k-labels-idx1-ubyte.gz'])}" \
        in message
    assert leftovers(isolated / "xdg-cache") == ["minigrad/mnist/t10k-images-idx3-ubyte.gz"]  # the good one


def test_archive_mirror_extracts_the_checked_files(isolated, monkeypatch, server):
    series, labels = small_ecg()
    blobs = {"ECG5000_TRAIN.txt": ucr_text(series, labels), "ECG5000_TEST.txt": ucr_text(series[:3], labels[:3])}
    pin(monkeypatch, "ecg5000", blobs)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for name, blob in blobs.items():
            zf.writestr(name, blob)
        zf.writestr("ECG5000_TRAIN.arff", b"not needed")
    server.files["/ECG5000.zip"] = archive.getvalue()
    monkeypatch.setitem(files.MIRRORS, "ecg5000", [server.url + "/ECG5000.zip"])

    np.testing.assert_array_equal(data.ecg5000("train")[1], labels)
    np.testing.assert_array_equal(data.ecg5000("test")[1], labels[:3])
    assert leftovers(isolated / "xdg-cache" / "minigrad") == ["ecg5000/ECG5000_TEST.txt", "ecg5000/ECG5000_TRAIN.txt"]
    assert server.requests == ["/ECG5000.zip"]  # one archive serves both files


def test_offline_error_lists_every_place_and_both_fixes(isolated, monkeypatch):
    monkeypatch.setitem(files.MIRRORS, "fashion-mnist", [closed_port_url()])
    monkeypatch.setitem(files.SOURCES, "fashion-mnist",
                        dataclasses.replace(files.SOURCES["fashion-mnist"], system_dirs=(str(isolated / "sys"),)))
    monkeypatch.setenv("MINIGRAD_DATA", str(isolated / "shared"))
    (isolated / "mine").mkdir()

    with pytest.raises(data.DatasetNotFoundError) as error:
        data.fashion_mnist("train", root=isolated / "mine")
    message = str(error.value)
    for place in (isolated / "mine" / "fashion-mnist", isolated / "shared" / "fashion-mnist",
                  isolated / "xdg-cache" / "minigrad" / "fashion-mnist", isolated / "sys"):
        assert str(place) in message
    assert "Connection refused" in message
    assert "set MINIGRAD_DATA" in message
    assert "apt install dataset-fashion-mnist" in message
    assert "connected machine" in message


def test_default_mirrors_are_listed_for_every_dataset():
    for dataset in files.SOURCES:
        assert len(files.MIRRORS[dataset]) >= 2
        assert all(url.endswith(("/", ".zip")) for url in files.MIRRORS[dataset])


# ---------------------------------------------------------------- real files

REAL_DATA = os.environ.get("MINIGRAD_DATA")
needs_real_data = pytest.mark.skipif(not REAL_DATA, reason="MINIGRAD_DATA is not set: the real datasets are not here")


@needs_real_data
@pytest.mark.parametrize("loader, train_counts", [
    (data.mnist, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]),
    (data.fashion_mnist, [6000] * 10),
])
def test_real_idx_datasets(loader, train_counts):
    x, y = loader("train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.bincount(y).tolist() == train_counts
    x, y = loader("test")
    assert x.shape == (10000, 28, 28) and y.shape == (10000,)


@needs_real_data
def test_real_ecg5000():
    x, y = data.ecg5000("train")
    assert x.shape == (500, 140) and x.dtype == np.float32
    assert np.bincount(y, minlength=6)[1:].tolist() == [292, 177, 10, 19, 2]
    x, is_anomaly = data.ecg5000_anomaly("test")
    assert x.shape == (4500, 140)
    assert int((~is_anomaly).sum()) == 2627


# ---------------------------------------------------------------- DataLoader

def test_loader_yields_aligned_batches_in_order_without_shuffle():
    x = np.arange(10).reshape(10, 1) * 10
    y = np.arange(10)
    loader = data.DataLoader(x, y, batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb * 10)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), batch_size=st.integers(1, 17), drop_last=st.booleans(), seed=st.integers(0, 2**32))
def test_shuffled_pass_visits_each_sample_once(n, batch_size, drop_last, seed):
    loader = data.DataLoader(np.arange(n), batch_size=batch_size, shuffle=True, drop_last=drop_last, seed=seed)
    batches = [b for (b,) in loader]
    assert len(batches) == len(loader)
    assert all(len(b) == batch_size for b in batches[:-1])
    seen = np.concatenate(batches) if batches else np.array([], dtype=int)
    if drop_last:
        assert len(seen) == (n // batch_size) * batch_size
        assert len(set(seen.tolist())) == len(seen)
    else:
        assert sorted(seen.tolist()) == list(range(n))


def test_same_seed_same_batches_and_each_epoch_differs():
    def epochs(seed):
        loader = data.DataLoader(np.arange(100), batch_size=10, shuffle=True, seed=seed)
        return [np.concatenate([b for (b,) in loader]) for _ in range(3)]

    first, again, other = epochs(7), epochs(7), epochs(8)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], other[0])


def test_state_dict_resumes_the_shuffle_sequence():
    straight = data.DataLoader(np.arange(50), batch_size=8, shuffle=True, seed=1)
    expected = [np.concatenate([b for (b,) in straight]) for _ in range(4)]

    first_half = data.DataLoader(np.arange(50), batch_size=8, shuffle=True, seed=1)
    for _ in range(2):
        list(first_half)
    resumed = data.DataLoader(np.arange(50), batch_size=8, shuffle=True, seed=999)
    resumed.load_state_dict(first_half.state_dict())
    for want in expected[2:]:
        np.testing.assert_array_equal(np.concatenate([b for (b,) in resumed]), want)


def test_loader_keeps_dtype_and_rejects_bad_arguments():
    x = np.zeros((5, 2), dtype=np.uint8)
    (xb,), = list(data.DataLoader(x, batch_size=5, shuffle=True, seed=0))
    assert xb.dtype == np.uint8
    with pytest.raises(ValueError, match=r"same length, got lengths \[5, 4\]"):
        data.DataLoader(x, np.zeros(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        data.DataLoader(x, batch_size=0)


def test_loader_accepts_a_tuple_of_arrays_and_lists():
    x, y = np.arange(6).reshape(3, 2), [0, 1, 2]
    (xb, yb), = list(data.DataLoader((x, y), batch_size=3))
    np.testing.assert_array_equal(xb, x)
    np.testing.assert_array_equal(yb, y)


def test_loader_moves_batches_to_the_cpu_device():
    (xb,), = list(data.DataLoader(np.ones((3, 2)), batch_size=3, device="cpu"))
    assert isinstance(xb, np.ndarray)


# ---------------------------------------------------------------- DataLoader mid-pass state (issue 14, item 8)

def passes(loader, count):
    return [np.concatenate([b for (b,) in loader]) for _ in range(count)]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 9), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 2**32 - 1), cut=st.integers(0, 50), earlier_passes=st.integers(0, 2))
def test_a_state_taken_mid_pass_replays_the_rest_of_that_pass_and_every_later_one(
        n, batch_size, shuffle, drop_last, seed, cut, earlier_passes):
    def make(loader_seed):
        return data.DataLoader(np.arange(n), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                               seed=loader_seed)

    straight = make(seed)
    expected = [[b for (b,) in straight] for _ in range(earlier_passes + 2)]
    interrupted = make(seed)
    for _ in range(earlier_passes):
        list(interrupted)
    batches = iter(interrupted)
    taken = [next(batches)[0] for _ in range(min(cut, len(interrupted)))]
    state = interrupted.state_dict()

    resumed = make(seed + 1)
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    rest = [b for (b,) in resumed]
    got = taken + rest
    assert len(got) == len(expected[earlier_passes])
    assert all(np.array_equal(a, b) for a, b in zip(got, expected[earlier_passes]))
    assert all(np.array_equal(a, b) for (a,), b in zip(resumed, expected[earlier_passes + 1]))


def test_a_pass_left_early_counts_as_finished():
    loader = data.DataLoader(np.arange(30), batch_size=4, shuffle=True, seed=3)
    for step, _ in enumerate(loader):
        if step == 2:
            break
    state = loader.state_dict()
    assert set(state) == {"rng"}
    twin = data.DataLoader(np.arange(30), batch_size=4, shuffle=True, seed=99)
    twin.load_state_dict(state)
    np.testing.assert_array_equal(passes(twin, 1)[0], passes(loader, 1)[0])


def test_a_mid_pass_state_into_another_loader_is_refused_by_name():
    loader = data.DataLoader(np.arange(30), batch_size=4, shuffle=True, seed=3)
    batches = iter(loader)
    next(batches)
    state = loader.state_dict()
    with pytest.raises(ValueError, match=r"taken 1 batches into a pass over 30 samples in batches of 4; this loader "
                                         r"has 20 samples in batches of 4"):
        data.DataLoader(np.arange(20), batch_size=4, shuffle=True).load_state_dict(state)
    with pytest.raises(ValueError, match=r"batches_done must be an integer in 0..8, got 99"):
        data.DataLoader(np.arange(30), batch_size=4).load_state_dict(dict(state, batches_done=99))
    with pytest.raises(ValueError, match=r"'rng' is not a PCG64 state"):
        data.DataLoader(np.arange(30), batch_size=4).load_state_dict({"rng": {"bit_generator": "MT19937"}})
    with pytest.raises(ValueError, match=r"expected a dict with the generator state under 'rng'"):
        data.DataLoader(np.arange(30), batch_size=4).load_state_dict([1, 2])


# ---------------------------------------------------------------- downloads that lose nothing (issue 14, item 6)

KILLED_DOWNLOAD = """
import sys
sys.path.insert(0, {repo!r})
from minigrad.data import files
files._download(sys.argv[1], files.SOURCES["mnist"], "train-images-idx3-ubyte.gz")
"""


def test_a_download_killed_mid_way_leaves_a_scratch_folder_that_the_next_download_removes(isolated, monkeypatch,
                                                                                         server):
    images, labels = small_mnist(n=300)
    blobs = mnist_files(images, labels)
    pin(monkeypatch, "mnist", blobs)
    name = "train-images-idx3-ubyte.gz"
    server.files[f"/mnist/{name}"] = blobs[name]
    server.stall_after[f"/mnist/{name}"] = len(blobs[name]) // 2
    cache = isolated / "xdg-cache" / "minigrad" / "mnist"
    env = dict(os.environ, XDG_CACHE_HOME=str(isolated / "xdg-cache"), NO_PROXY="127.0.0.1")
    repo = str(Path(__file__).resolve().parents[1])
    child = subprocess.Popen([sys.executable, "-c", KILLED_DOWNLOAD.format(repo=repo), server.url + "/mnist/"],
                             env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not any(path.stat().st_size for path in cache.glob(".download-*/*")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert [p.name.startswith(f".download-{child.pid}-") for p in cache.iterdir()] == [True]

    del server.stall_after[f"/mnist/{name}"]
    server.files.update({f"/mnist/{n}": blob for n, blob in blobs.items()})
    monkeypatch.setitem(files.MIRRORS, "mnist", [server.url + "/mnist/"])
    x, _ = data.mnist("train")
    np.testing.assert_array_equal(x, images)
    assert leftovers(cache) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert sorted(p.name for p in cache.iterdir()) == leftovers(cache)


def test_a_scratch_folder_of_a_live_download_is_left_alone(isolated, monkeypatch, server):
    series, labels = small_ecg()
    blobs = {"ECG5000_TRAIN.txt": ucr_text(series, labels)}
    pin(monkeypatch, "ecg5000", blobs)
    server.files["/ecg5000/ECG5000_TRAIN.txt"] = blobs["ECG5000_TRAIN.txt"]
    monkeypatch.setitem(files.MIRRORS, "ecg5000", [server.url + "/ecg5000/"])
    cache = isolated / "xdg-cache" / "minigrad" / "ecg5000"
    busy = cache / f".download-{os.getpid()}-other-thread"
    busy.mkdir(parents=True)
    data.ecg5000("train")
    assert busy.is_dir()


def test_an_archive_with_one_bad_member_still_gives_the_good_one(isolated, monkeypatch, server):
    series, labels = small_ecg()
    blobs = {"ECG5000_TRAIN.txt": ucr_text(series, labels), "ECG5000_TEST.txt": ucr_text(series[:3], labels[:3])}
    pin(monkeypatch, "ecg5000", blobs)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ECG5000_TEST.txt", b"tampered")
        zf.writestr("ECG5000_TRAIN.txt", blobs["ECG5000_TRAIN.txt"])
    server.files["/ECG5000.zip"] = archive.getvalue()
    monkeypatch.setitem(files.MIRRORS, "ecg5000", [server.url + "/ECG5000.zip"])

    np.testing.assert_array_equal(data.ecg5000("train")[1], labels)
    with pytest.raises(data.ChecksumError, match=r"ECG5000 file ECG5000_TEST.txt: the download is not the expected"):
        data.ecg5000("test")
    assert leftovers(isolated / "xdg-cache" / "minigrad") == ["ecg5000/ECG5000_TRAIN.txt"]


def test_a_file_url_mirror_serves_a_teachers_share(isolated, monkeypatch):
    images, labels = small_mnist()
    blobs = mnist_files(images, labels)
    pin(monkeypatch, "mnist", blobs)
    write_folder(isolated / "share with space" / "mnist", blobs)
    monkeypatch.setenv("MINIGRAD_DATA_MIRROR", (isolated / "share with space").as_uri() + "/")

    x, y = data.mnist("test")
    np.testing.assert_array_equal(x, images)
    assert leftovers(isolated / "xdg-cache") == ["minigrad/mnist/t10k-images-idx3-ubyte.gz",
                                                 "minigrad/mnist/t10k-labels-idx1-ubyte.gz"]
    (isolated / "share with space" / "mnist" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DatasetNotFoundError, match=r"share%20with%20space/mnist/train-labels-idx1-ubyte.gz: "
                                                        r".*No such file"):
        data.mnist("train")


def test_downloaded_files_get_the_usual_permissions(isolated, monkeypatch, server):
    series, labels = small_ecg()
    blobs = {"ECG5000_TRAIN.txt": ucr_text(series, labels)}
    pin(monkeypatch, "ecg5000", blobs)
    server.files["/ecg5000/ECG5000_TRAIN.txt"] = blobs["ECG5000_TRAIN.txt"]
    monkeypatch.setitem(files.MIRRORS, "ecg5000", [server.url + "/ecg5000/"])
    data.ecg5000("train")
    mask = os.umask(0)
    os.umask(mask)
    mode = (isolated / "xdg-cache" / "minigrad" / "ecg5000" / "ECG5000_TRAIN.txt").stat().st_mode & 0o777
    assert mode == 0o666 & ~mask


def test_a_root_that_is_not_a_folder_is_an_error_not_a_silent_fallback(isolated, monkeypatch):
    images, labels = small_mnist()
    blobs = mnist_files(images, labels)
    write_folder(isolated / "data" / "mnist", blobs)
    pin(monkeypatch, "mnist", blobs)
    monkeypatch.setenv("MINIGRAD_DATA", str(isolated / "data"))
    with pytest.raises(data.DatasetNotFoundError, match=r"root=.*nonexistent \(--data-dir in the lessons\) is not a "
                                                        r"folder; expected one holding mnist/"):
        data.mnist("train", root=isolated / "nonexistent")
    np.testing.assert_array_equal(data.mnist("train")[0], images)
