"""Private paths: Ember only reads back what no other user can have written.

The disk cache holds shared libraries that Ember loads and runs, and the IR dump folder receives
files Ember writes by name; both must be places only this user can change. A path is *private*
when it is owned by this user (or by root, who can change anything anyway) and is neither
group- nor world-writable. Ember creates its own folders owner-only (0o700), and refuses any
other one with an `UnsafePathWarning`, once per path and process. Used by runtime/cache.py and
lowering/pipeline.py.
"""

from __future__ import annotations

import os
import stat
import warnings


class UnsafePathWarning(UserWarning):
    """Ember refused a folder or file that another user can write or owns."""


_warned: set[str] = set()


def check_private(path: str) -> str | None:
    """Why another user could change `path` (a file or folder), or None when only this user
    (or root) can. A path that does not exist is None: there is nothing in it to trust yet."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        return f"not accessible ({err.strerror})"
    me = os.geteuid()
    if st.st_uid not in (me, 0):
        return f"owned by another user (uid {st.st_uid}, while Ember runs as uid {me})"
    if st.st_mode & stat.S_IWOTH:
        return "world-writable (any user could put code in it)"
    if st.st_mode & stat.S_IWGRP:
        return "group-writable (other users of its group could put code in it)"
    return None


def ensure_private_dir(path: str) -> str | None:
    """Create folder `path` and its missing parents owner-only (0o700); return why `path` is
    not a private folder (see `check_private`), or None when it is. Existing folders keep
    their permissions."""
    missing = []
    folder = os.path.abspath(path)
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        missing.append(folder)
        folder = os.path.dirname(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError as err:
            return f"impossible to create ({err.strerror})"
    if not os.path.isdir(path):
        return "not a folder"
    return check_private(path)


def trusted(path: str, what: str, instead: str, create: bool = False) -> bool:
    """Whether Ember may use `path` (created first with `ensure_private_dir` where `create`).
    If not, warn once per path and process: '<what> <path> ... <instead>'."""
    reason = ensure_private_dir(path) if create else check_private(path)
    if reason is None:
        return True
    where = os.path.abspath(path)
    if where not in _warned:
        _warned.add(where)
        warnings.warn(f"Ember does not use {what} {where!r}: it is {reason}; {instead}",
                      UnsafePathWarning, stacklevel=3)
    return False
