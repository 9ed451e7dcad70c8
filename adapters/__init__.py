"""The only places that touch other libraries' private internals, one module per library.

Each module checks at import that the installed version is one whose internals it was written against, and
raises UnsupportedVersion otherwise: the server then fails at startup, loudly, instead of running with a
limit or a fast path silently switched off. The ranges here match requirements.lock.
"""

from __future__ import annotations

from importlib.metadata import version

from packaging.specifiers import SpecifierSet
from packaging.version import Version


class UnsupportedVersion(RuntimeError):
    pass


def require(distribution: str, supported: str, installed: str | None = None) -> str:
    """The installed version of `distribution`, if it is in `supported`; else UnsupportedVersion."""
    found = installed if installed is not None else version(distribution)
    if Version(found) not in SpecifierSet(supported):
        raise UnsupportedVersion(
            f"{distribution} {found} is not supported: Tracehouse relies on internals of {distribution}"
            f"{supported}; install the pinned versions (pip install -r requirements.lock)"
        )
    return found


def require_attributes(owner: object, *names: str) -> None:
    """The private attributes an adapter relies on exist (a patch release may still move them)."""
    missing = [n for n in names if not hasattr(owner, n)]
    if missing:
        raise UnsupportedVersion(f"{getattr(owner, '__qualname__', owner)} lacks {', '.join(missing)}")
