"""The course's grading secret: what the grader draws hidden cases from.

    python -m rnncourse.autograder.secret        (or: make secret), once per course

writes a new random secret (64 hex characters) to ``.grading-secret`` in the
course root, readable by its owner only; git ignores the file. An existing
secret is never overwritten: grading again with the same secret draws the
same hidden cases and gives the same grades, while a new secret draws new
ones. Keep a copy where you keep the gradebook; on another machine, copy the
file, or set ``RNNCOURSE_GRADING_SECRET`` (the same text) in the grader's
environment, which takes precedence over the file.

The secret never enters a sandbox and never reaches a learner: the grader
derives each hidden case's generator from it (``rnncourse.grading.parts.HiddenKey``)
and sends only a part's drawn inputs into the sandbox, when that part is checked.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from rnncourse.grading.parts import MIN_SECRET_BYTES, HiddenKey

SECRET_FILE = ".grading-secret"
ENVIRONMENT = "RNNCOURSE_GRADING_SECRET"


class MissingSecret(RuntimeError):
    """No grading secret: the message says how to create one."""


def create(root: Path) -> Path:
    """Write a new secret to ``root/.grading-secret`` (mode 0600); refuse if one exists."""
    path = root / SECRET_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise FileExistsError(
            f"{path} exists already: the course has its secret (a new one would draw other hidden cases; "
            "delete the file first if that is what you want)"
        ) from None
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def load(root: Path) -> bytes:
    """The secret: ``$RNNCOURSE_GRADING_SECRET``, else ``root/.grading-secret``.

    Raises:
        MissingSecret: there is none, or it is too short; the message says what to do.
    """
    text = os.environ.get(ENVIRONMENT, "").strip()
    where = f"${ENVIRONMENT}"
    if not text:
        path = root / SECRET_FILE
        where = str(path)
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            raise MissingSecret(
                f"no grading secret: hidden cases are drawn from a secret only you hold. Create it once "
                f"with `make secret` in {root} (it writes {SECRET_FILE}, which git ignores), or set "
                f"{ENVIRONMENT}; keep it, since grading again needs the same secret"
            ) from None
    secret = text.encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise MissingSecret(
            f"the grading secret in {where} is too short ({len(secret)} characters, at least "
            f"{MIN_SECRET_BYTES}): create a new one with `make secret`"
        )
    return secret


def key(root: Path, assignment: str) -> HiddenKey:
    """The key that draws ``assignment``'s hidden cases."""
    return HiddenKey(load(root), assignment)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnncourse.autograder.secret", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course root")
    args = parser.parse_args(argv)
    try:
        path = create(args.root.resolve())
    except FileExistsError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"wrote the grading secret to {path}: keep a copy with the gradebook, never in the repository")
    return 0


if __name__ == "__main__":
    sys.exit(main())
