"""The data package's exceptions. Each message names the file (or folder) at fault and what is wrong."""


class DataError(Exception):
    """Base of every data problem, so a program can catch them all and print the one message."""


class MissingDataError(DataError, FileNotFoundError):
    """A data folder or file is not where it was expected."""

    def __str__(self):  # OSError would otherwise format (errno, strerror) pairs
        return self.args[0] if self.args else ""


class CorruptDataError(DataError, ValueError):
    """A file is there but its contents are wrong: bad header, wrong length, wrong checksum."""


class DownloadError(DataError):
    """Every mirror failed for at least one file."""
