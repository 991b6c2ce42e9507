"""Atomic output: a directory or a file appears complete or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable, Iterator, Union


def directory_path(out: Union[str, Path], name: str = "out") -> Path:
    """``out`` as a Path, checked to be a directory or not to exist yet.

    **Raises:**

    `ValueError` naming the argument (``name``) if `out` exists and is a file.

    ```python
    >>> directory_path("out/demo").name
    'demo'

    ```
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{name} must be a directory; {out} exists and is a file")
    return out


@contextlib.contextmanager
def atomic_directory(out: Union[str, Path]) -> Iterator[Path]:
    """Build a directory's contents in a temporary sibling, then rename it into place.

    On success the temporary directory replaces `out` (a previous `out` is removed); on
    any exception it is deleted and `out` is left as it was. Parent directories that
    this call creates are removed again on failure.

    **Arguments:**

    - `out`: the final directory.

    **Returns:**

    A context manager yielding the temporary directory to write into.

    **Raises:**

    `ValueError` if `out` exists and is not a directory.

    ```python
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "demo"
    >>> with atomic_directory(out) as tmp:
    ...     _ = (tmp / "summary.md").write_text("hi")
    >>> (out / "summary.md").read_text()
    'hi'

    ```
    """
    out = directory_path(out).absolute()
    created = []
    parent = out.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        if out.exists():
            old = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.old"
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for directory in created:  # innermost first
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temporary path)``, then rename the finished file to ``path``.

    ```python
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> write_atomically(path, lambda tmp: tmp.write_text("done"))
    >>> path.read_text()
    'done'

    ```
    """
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
