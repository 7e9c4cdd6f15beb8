"""Reading only a learner's own regular files: a link, a FIFO or a device is never followed.

Archives, ``cp -a`` and exchange folders keep symbolic links, so a
submission could be a link into the course (a solution notebook) that the
grader would read with the instructor's rights. Everything the grader reads
from ``submitted/`` or writes there goes through these functions.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def linked_folder(root: Path, student: str, assignment: str) -> str:
    """Why ``submitted/<student>/<assignment>`` may not be used (a symbolic link on the way), or ""."""
    for path in (root / "submitted" / student, root / "submitted" / student / assignment):
        if path.is_symlink():
            return f"{path.relative_to(root)} is a symbolic link (hand in the folder itself)"
    return ""


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file itself, never what a link points to.

    Raises:
        OSError: with a plain ``strerror`` when it is a link, a folder, a FIFO or a device, or larger than ``limit``.
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(error.errno, "it is a symbolic link, which is never followed") from None
        raise
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file")
        if status.st_size > limit:
            raise OSError(errno.EFBIG, f"it is larger than {limit // 1024**2} MB")
        return handle.read(limit + 1)


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, replacing a regular file but never writing through a link."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
