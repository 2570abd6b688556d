"""Download MNIST's .gz files from the standard mirrors, safely.

For each missing file, every mirror is tried in turn, each a few times with a growing pause. A file
is streamed into a temporary file beside its destination and moved into place (an atomic rename)
only after the md5 of its decompressed bytes matches the original's, so an interrupted or corrupt
download never leaves a file that looks valid. Refusals that will not change on a retry (403, 404)
move on to the next mirror at once, and so does a host name that does not resolve (no network):
that mirror is then skipped for the other files too, so an offline machine fails in moments.

When every mirror fails for some file, one DownloadError says which files are missing (one line
per file, with what each mirror answered last), where they were expected, and how to place the files
by hand. Folders made for a download that failed are removed again.
"""

import gzip
import hashlib
import http.client
import os
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .errors import CorruptDataError, DownloadError
from .files import FILES, missing_files_message
from .idx import gzip_errors

# torchvision's mirrors, in its order. The second one has answered 403 for years (as the lesson hit).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
MIRRORS_ENV_VAR = "MINITORCH_RELU_MNIST_MIRRORS"  # comma-separated base URLs, tried before MIRRORS
CHUNK = 1 << 16


class _Permanent(Exception):
    """A refusal a retry will not change (403, 404): go to the next mirror."""


class _Unresolvable(_Permanent):
    """The mirror's host name does not resolve (no network, or no such host): no retry, and the
    other files skip that mirror."""


def mirrors_to_try(mirrors=None):
    if mirrors is not None:
        return list(mirrors)
    extra = [m.strip() for m in os.environ.get(MIRRORS_ENV_VAR, "").split(",") if m.strip()]
    return extra + list(MIRRORS)


def _fetch(url, destination, timeout):
    """Stream ``url`` into the open binary file ``destination``; raise on any short or failed read."""
    request = urllib.request.Request(url, headers={"User-Agent": "minitorch_relu"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403, 404, 410):
            raise _Permanent(f"HTTP {exc.code} {exc.reason}") from None
        raise
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, socket.gaierror):
            host = urllib.parse.urlsplit(url).hostname
            raise _Unresolvable(f"cannot resolve {host} ({exc.reason.strerror or exc.reason}); no network?") from None
        raise
    with response:
        expected = response.headers.get("Content-Length")
        received = 0
        while True:
            try:
                chunk = response.read(CHUNK)
            except http.client.IncompleteRead as exc:  # the server promised more than it sent
                received += len(exc.partial)
                break
            if not chunk:
                break
            destination.write(chunk)
            received += len(chunk)
    if expected is not None and received != int(expected):
        raise OSError(f"connection closed after {received} of {expected} bytes (truncated)")


def _verify(tmp_path, name):
    """Raise CorruptDataError unless the downloaded .gz decompresses to the original file."""
    expected_md5 = FILES[name][0]
    digest = hashlib.md5()
    with gzip_errors(), gzip.open(tmp_path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected_md5:
        raise CorruptDataError(f"md5 of the decompressed bytes is {digest.hexdigest()}, expected {expected_md5}")


def _host(url):
    return urllib.parse.urlsplit(url).hostname


def _make_folder(folder):
    """mkdir -p ``folder``; returns the folders it made, deepest first (to remove them after a failure)."""
    made, path = [], Path(folder)
    while not path.exists():
        made.append(path)
        path = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    return made


def _remove_if_empty(folders):
    for path in folders:
        try:
            path.rmdir()  # only an empty folder goes
        except OSError:
            break


def download_file(name, folder, mirrors=None, retries=3, timeout=30.0, backoff=1.0, log=None, unresolvable=None):
    """Download ``name``.gz into ``folder``; returns its path, or raises DownloadError with one line
    saying what each mirror answered last. ``unresolvable``: a set of host names that did not
    resolve, shared between files (and added to)."""
    folder = Path(folder)
    unresolvable = set() if unresolvable is None else unresolvable
    made = _make_folder(folder)
    target = folder / (name + ".gz")
    answers = []  # the last answer of each mirror
    for base in mirrors_to_try(mirrors):
        url = base.rstrip("/") + "/" + name + ".gz"
        if _host(url) in unresolvable:
            answers.append(f"{url}: skipped ({_host(url)} did not resolve)")
            continue
        for attempt in range(1, retries + 1):
            if log:
                log(f"downloading {url} (attempt {attempt} of {retries})")
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out:
                    _fetch(url, out, timeout)
                _verify(tmp, name)
                os.replace(tmp, target)  # atomic: the target appears only complete and checked
                return target
            except _Permanent as exc:
                if isinstance(exc, _Unresolvable):
                    unresolvable.add(_host(url))
                answers.append(f"{url}: {exc}")
                break  # a retry would get the same answer
            except (OSError, http.client.HTTPException, CorruptDataError, ValueError) as exc:
                # URLError, refused connections, timeouts, short reads (IncompleteRead), bad data: retry
                if attempt == retries:
                    answers.append(f"{url}: {exc} (tried {retries} time{'s' if retries > 1 else ''})")
                else:
                    time.sleep(backoff * 2 ** (attempt - 1))
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    _remove_if_empty(made)
    raise DownloadError("; ".join(answers))


def download_mnist(root, names=None, mirrors=None, retries=3, timeout=30.0, backoff=1.0, log=None):
    """Download the missing MNIST files into <root>/MNIST/raw/. Raises one DownloadError naming them all.

    Folders this call made are removed again if they end up empty."""
    root = Path(root)
    names = list(FILES) if names is None else list(names)
    if not names:
        return
    folder = root / "MNIST" / "raw"
    made = _make_folder(folder)
    failed, reasons, unresolvable = [], [], set()
    for name in names:
        try:
            download_file(name, folder, mirrors=mirrors, retries=retries, timeout=timeout, backoff=backoff, log=log,
                          unresolvable=unresolvable)
        except DownloadError as exc:
            failed.append(name)
            reasons.append(f"{name}: {exc}")
    if failed:
        _remove_if_empty(made)
        message = missing_files_message(root, failed, reason="every download mirror failed:\n  " + "\n  ".join(reasons))
        raise DownloadError(message)
