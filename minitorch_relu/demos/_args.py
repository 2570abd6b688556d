"""Checked option values for the demos: a bad value stops argparse with one line and exit 2, before
any work (never a traceback at the end of a run)."""

import argparse
import math
import os


def _number(text, kind):
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def positive_int(text):
    value = _number(text, int)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def non_negative_int(text):
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_float(text):
    value = _number(text, float)
    if not 0 < value < math.inf:  # nan fails too
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def finite_float(text):
    value = _number(text, float)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def seed(text):
    value = _number(text, int)
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"must lie in 0..{2**64 - 1}, got {value}")
    return value


def at_least(low):
    """A whole number >= ``low`` (e.g. a subset that holds at least one batch)."""
    def check(text):
        value = _number(text, int)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value
    return check


def out_folder(text):
    """A folder for images: it may not exist yet (it is made when the first image is written), but
    it must not be a file, nor lie under one, and its nearest existing folder must be writable."""
    path = os.path.abspath(text)
    if os.path.exists(path) and not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise argparse.ArgumentTypeError(f"{text!r} cannot be made: {existing!r} is a file")
    if not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"no permission to write in {existing!r}")
    return text


def choices_list(allowed, what):
    """A comma-separated list whose items are all in ``allowed`` (case-insensitive), given back
    as the same kind of text ("a,b")."""
    def check(text):
        items = [item.strip().lower() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in allowed]
        if unknown:
            problem = f"unknown {what} {', '.join(map(repr, unknown))}"
        elif not items:
            problem = f"no {what} given"
        else:
            return ",".join(items)
        raise argparse.ArgumentTypeError(f"{problem}; choose from {', '.join(allowed)}")
    return check
