"""Creating the temporary files that the hub renames into place.

``tempfile.mkstemp`` creates its files with mode 0600, so a file renamed
into place from one stays private. Registries, wheels and upload files
contain no secret (credentials are redacted before anything is written)
and are often shared, so they get the mode that ``open()`` gives a new
file: 0666 minus the user's umask.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# Names tried before giving up, as ``tempfile`` does with ``TMP_MAX``.
MAX_NAME_ATTEMPTS = 100


def create_temporary_file(
    directory: Path, prefix: str, suffix: str
) -> tuple[int, Path]:
    """Create a new, uniquely named file in ``directory``, opened for writing.

    Returns the file descriptor and the path. The mode is 0666 minus the
    umask, because the kernel applies the umask to the mode given here.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(MAX_NAME_ATTEMPTS):
        path = directory / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(
        f"no free temporary name {prefix}*{suffix} in {directory} after "
        f"{MAX_NAME_ATTEMPTS} attempts; remove stale {prefix}* files there"
    )
