"""The parity ledger: every bound the parity tests use, read from parity/ledger.toml, and the
measured errors next to them.

Tests ask for a bound by key and report what they measured:

    from ledger import check
    check("ops.float64", error, backend="numpy")   # asserts error <= bound, and records it

``python -m parity.ledger [--backend numpy|strict|cupy] [pytest args]`` runs the parity tests with
recording on and prints one table: what is compared, backend, measured error (the worst of the
run), allowed, headroom (allowed / measured), and the measured spread each bound came from.
``python -m parity.ledger --from-log FILE`` prints the table of any run that recorded into FILE
(``MINITORCH_RELU_LEDGER_LOG=FILE python -m parity.suite``: every stage, every simulated machine).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

LEDGER = Path(__file__).resolve().parent / "ledger.toml"
LOG_VARIABLE = "MINITORCH_RELU_LEDGER_LOG"  # when set, every check appends one JSON line to this file

_entries = None


def entries():
    """key -> the entry's table (bound, what, metric, spread, factor, measured_on)."""
    global _entries
    if _entries is None:
        with open(LEDGER, "rb") as f:
            _entries = tomllib.load(f)["bound"]
    return _entries


def bound(key):
    try:
        return entries()[key]["bound"]
    except KeyError:
        raise KeyError(f"parity/ledger.toml has no bound {key!r}") from None


def record(key, measured, backend="numpy"):
    """Append a measurement to the log (when recording); return it."""
    path = os.environ.get(LOG_VARIABLE)
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"key": key, "backend": backend, "measured": float(measured)}) + "\n")
    return measured


def check(key, measured, backend="numpy", detail=""):
    """Assert ``measured <= bound(key)`` with a message that says where the bound comes from."""
    record(key, measured, backend)
    allowed = bound(key)
    if not measured <= allowed:  # also catches NaN
        entry = entries()[key]
        factor = entry["factor"]
        reason = f"{factor} x the measured spread" if not isinstance(factor, str) else f"{factor}; measured spread"
        raise AssertionError(
            f"{key}: measured {measured:.3g} > allowed {allowed:.3g} ({entry['what']}; {entry['metric']}). "
            f"The bound is {reason} {entry['spread']:.3g} ({entry['measured_on']}). {detail}".rstrip()
        )
    return measured


def _table(log_path):
    worst = {}
    for line in Path(log_path).read_text().splitlines():
        item = json.loads(line)
        k = (item["key"], item["backend"])
        worst[k] = max(worst.get(k, 0.0), item["measured"])
    rows = [("bound", "compared", "backend", "measured", "allowed", "headroom", "spread (where)")]
    for key, entry in entries().items():
        runs = [(b, m) for (k, b), m in sorted(worst.items()) if k == key] or [("-", None)]
        for backend, measured in runs:
            headroom = "-" if measured is None else ("inf" if measured == 0 else f"{entry['bound'] / measured:.3g}x")
            rows.append((key, entry["what"], backend, "not run" if measured is None else f"{measured:.3g}",
                         f"{entry['bound']:.3g}", headroom, f"{entry['spread']:.3g} ({entry['measured_on']})"))
    return rows


def _print_table(rows):
    widths = [min(max(len(r[i]) for r in rows), 60 if i in (1, 6) else 99) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "~" for i, cell in enumerate(row)]
        print("| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def main(argv):
    import tempfile

    if argv[:1] == ["--from-log"]:  # the table of a run that recorded with MINITORCH_RELU_LEDGER_LOG set
        _print_table(_table(argv[1]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "ledger.jsonl"
        log.touch()
        env = dict(os.environ, **{LOG_VARIABLE: str(log)})
        repo = LEDGER.parent.parent
        code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "parity", *argv],
                               env=env, cwd=repo)
        _print_table(_table(log))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
