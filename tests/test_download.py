"""The MNIST download against a local HTTP server on 127.0.0.1.

The server serves the real .gz files under /good/, refuses everything under /forbidden/ (403, as the
lesson's mirror did), cuts every file short under /truncated/ (it promises the full length and closes
early), and serves gzip files whose contents are wrong under /corrupt/.
"""

import gzip
import http.server
import threading
from pathlib import Path

import pytest

from minitorch_relu.data import MNIST, DownloadError, download
from minitorch_relu.data.download import download_file, download_mnist
from minitorch_relu.train_cli import run
from minitorch_relu.cli import build_parser

RAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "MNIST" / "raw"
pytestmark = pytest.mark.skipif(not (RAW / "t10k-labels-idx1-ubyte.gz").is_file(),
                                reason=f"MNIST .gz files not found in {RAW} (the shared data folder)")
LABELS = "t10k-labels-idx1-ubyte"


class Handler(http.server.BaseHTTPRequestHandler):
    requests = []  # "mode/file" of every request, in order

    def log_message(self, *args):  # keep pytest's output clean
        pass

    def do_GET(self):
        _, mode, name = self.path.split("/", 2)
        Handler.requests.append(f"{mode}/{name}")
        source = RAW / name
        if mode == "forbidden" or not source.is_file():
            self.send_error(403 if mode == "forbidden" else 404)
            return
        body = source.read_bytes()
        if mode == "corrupt":
            body = gzip.compress(b"\x00\x00\x08\x01" + b"\x07" * 20)  # valid gzip, wrong contents
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncated":
            body = body[: len(body) // 2]
            self.close_connection = True
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield lambda mode: f"{base}/{mode}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def fresh_log():
    Handler.requests.clear()


def _leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir()) if Path(folder).is_dir() else []


def test_all_four_files_after_a_403_mirror(server, tmp_path):
    download_mnist(tmp_path, mirrors=[server("forbidden"), server("good")], backoff=0)
    raw = tmp_path / "MNIST" / "raw"
    assert _leftovers(raw) == sorted(name + ".gz" for name in MNIST_FILES)
    for name in MNIST_FILES:  # byte for byte what the server holds
        assert (raw / (name + ".gz")).read_bytes() == (RAW / (name + ".gz")).read_bytes()
    # A 403 is not retried: one request to the refusing mirror per file, then the next mirror.
    assert [r.split("/")[0] for r in Handler.requests] == ["forbidden", "good"] * 4
    test_set = MNIST(tmp_path, train=False)
    assert test_set.labels[:3].tolist() == [7, 2, 1]


MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", LABELS]


def test_truncated_downloads_are_retried_then_the_next_mirror_wins(server, tmp_path):
    path = download_file(LABELS, tmp_path, mirrors=[server("truncated"), server("good")], retries=2, backoff=0)
    assert path == tmp_path / (LABELS + ".gz")
    assert Handler.requests == [f"truncated/{LABELS}.gz"] * 2 + [f"good/{LABELS}.gz"]
    assert _leftovers(tmp_path) == [LABELS + ".gz"]  # no temporary file left behind


@pytest.mark.parametrize("mode, words", [
    ("truncated", ["truncated"]),
    ("corrupt", ["md5 of the decompressed bytes is", "expected 27ae3e4e09519cfbb04c329615203637"]),
    ("forbidden", ["HTTP 403"]),
])
def test_a_bad_mirror_never_leaves_a_file_that_looks_valid(server, tmp_path, mode, words):
    with pytest.raises(DownloadError) as info:
        download_mnist(tmp_path, names=[LABELS], mirrors=[server(mode)], retries=2, backoff=0)
    message = str(info.value)
    for word in words:
        assert word in message
    raw = tmp_path / "MNIST" / "raw"
    assert _leftovers(raw) == []  # neither the file nor a .part
    # One clear message: which file, where it was expected, how to place it by hand.
    assert "missing MNIST file(s): t10k-labels-idx1-ubyte" in message
    assert str(raw) in message and "by hand" in message
    assert f"{server(mode)}{LABELS}.gz" in message


def test_every_mirror_failing_names_every_missing_file(server, tmp_path):
    closed = "http://127.0.0.1:9/"  # the discard port: nothing listens there, the connection is refused
    with pytest.raises(DownloadError) as info:
        download_mnist(tmp_path, names=["t10k-images-idx3-ubyte", LABELS],
                       mirrors=[closed, server("forbidden")], retries=1, backoff=0)
    message = str(info.value)
    assert "missing MNIST file(s): t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte" in message
    assert "every download mirror failed" in message
    assert message.count("HTTP 403") == 2 and message.count(closed) == 2


def test_mnist_download_flag_and_mirror_variable(server, tmp_path, monkeypatch):
    monkeypatch.setenv(download.MIRRORS_ENV_VAR, server("good"))
    assert download.mirrors_to_try()[0] == server("good")
    assert download.mirrors_to_try()[1:] == list(download.MIRRORS)
    test_set = MNIST(tmp_path, train=False, download=True)
    assert len(test_set) == 10000
    assert sorted(r.split("/")[1] for r in Handler.requests) == ["t10k-images-idx3-ubyte.gz", LABELS + ".gz"]
    Handler.requests.clear()
    MNIST(tmp_path, train=False, download=True)  # already there: nothing is fetched
    assert Handler.requests == []


def test_the_train_command_reports_a_failed_download(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(download, "MIRRORS", ())  # never reach the real internet from a test
    monkeypatch.setenv(download.MIRRORS_ENV_VAR, server("forbidden"))
    monkeypatch.setattr(download.time, "sleep", lambda s: None)
    args = build_parser().parse_args(["train", "--data-dir", str(tmp_path), "--download", "--quiet"])
    assert run(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("minitorch-relu train: error: every download mirror failed")
    assert ("missing MNIST file(s): train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
            "t10k-labels-idx1-ubyte\n") in err


# ----- no network: fail fast, one line per file, no flag suggested that was given, no empty folders ----------
@pytest.fixture
def offline(monkeypatch):
    """Name resolution fails for every host but 127.0.0.1 (as with no network); counts the lookups."""
    import socket

    real = socket.getaddrinfo
    lookups = []

    def getaddrinfo(host, *args, **kwargs):
        if host in ("127.0.0.1", "localhost"):
            return real(host, *args, **kwargs)
        lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    sleeps = []
    monkeypatch.setattr(download.time, "sleep", sleeps.append)
    return lookups, sleeps


def test_no_network_fails_fast_with_one_line_per_file(offline, tmp_path, monkeypatch, capsys):
    lookups, sleeps = offline
    monkeypatch.setattr(download, "MIRRORS", ("https://mirror-a.example/mnist/", "http://mirror-b.example/mnist/"))
    data_dir = tmp_path / "new" / "data"
    args = build_parser().parse_args(["train", "--data-dir", str(data_dir), "--download", "--quiet"])
    assert run(args) == 1
    err = capsys.readouterr().err
    # Each host is looked up once, not retried, not again for the next file; no pause between tries.
    assert lookups == ["mirror-a.example", "mirror-b.example"] and sleeps == []
    lines = err.splitlines()
    assert lines[0] == "minitorch-relu train: error: every download mirror failed:"
    per_file = lines[1:5]
    assert [line.split(":")[0].strip() for line in per_file] == MNIST_FILES
    assert "cannot resolve mirror-a.example" in per_file[0] and "cannot resolve mirror-b.example" in per_file[0]
    assert all("skipped (mirror-a.example did not resolve)" in line for line in per_file[1:])
    assert "--download" not in err  # it was given
    assert not (tmp_path / "new").exists()  # no empty folders left behind


def test_a_failed_download_keeps_a_folder_that_was_there(offline, tmp_path):
    (tmp_path / "MNIST").mkdir()
    with pytest.raises(DownloadError):
        download_mnist(tmp_path, names=[LABELS], mirrors=["http://nowhere.example/"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MNIST"] and list((tmp_path / "MNIST").iterdir()) == []
    with pytest.raises(DownloadError, match="cannot resolve nowhere.example"):
        download_file(LABELS, tmp_path / "x" / "y", mirrors=["http://nowhere.example/"])
    assert not (tmp_path / "x").exists()


def test_without_download_the_message_suggests_it(tmp_path, capsys):
    args = build_parser().parse_args(["train", "--data-dir", str(tmp_path / "none"), "--quiet"])
    assert run(args) == 1
    assert "or allow a download with --download" in capsys.readouterr().err
