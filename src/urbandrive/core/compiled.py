"""The switch of every compiled (numba) kernel, here so that any layer can have kernels.

`enabled()` is True when numba imports and `set_enabled(False)` (or the `numpy_reference()`
context) has not turned it off; without numba the package still imports and every caller
runs its numpy reference. `urbandrive.metrics.kernels` re-exports these names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

try:  # numba is optional: without it the numpy reference runs
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is absent
    numba = None

HAVE_NUMBA = numba is not None
_STATE = {"enabled": HAVE_NUMBA}


def njit(function: Callable[..., Any]) -> Callable[..., Any]:
    """`numba.njit(cache=True)` when numba is installed, else the function unchanged."""
    if numba is None:  # pragma: no cover
        return function
    return numba.njit(cache=True)(function)


def enabled() -> bool:
    """Whether the compiled kernels run (numba present and not switched off)."""
    return _STATE["enabled"]


def set_enabled(flag: bool) -> None:
    """Turn the compiled kernels on (only if numba is installed) or off (numpy reference)."""
    _STATE["enabled"] = bool(flag) and HAVE_NUMBA


@contextlib.contextmanager
def numpy_reference() -> Iterator[None]:
    """Run the numpy reference inside the block, whatever the switch said before."""
    before = _STATE["enabled"]
    _STATE["enabled"] = False
    try:
        yield
    finally:
        _STATE["enabled"] = before
