"""The numba decorator used by the compiled kernels, typed for mypy.

numba is the `zero` extra (`pip install 'automorph[zero]'`); importing a
kernel without it raises an ImportError that names the extra.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

try:
    import numba as _numba  # type: ignore[import-untyped,unused-ignore]
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "automorph.zero's compiled evaluator needs numba: pip install 'automorph[zero]'"
    ) from e

_F = TypeVar("_F", bound=Callable[..., Any])


# No reference counting (`_nrt=False`): the kernels allocate nothing (the entry
# kernels, `jit_alloc`, allocate their scratch once per call), and the atomic
# counts numba adds around every array passed or sliced cost more than the
# instructions they interpret. Division by zero gives inf or nan (IEEE).
_OPTIONS: dict[str, Any] = {"cache": True, "error_model": "numpy", "nogil": True, "_nrt": False}
_NJIT: Any = _numba.njit
_INLINE: dict[str, Any] = {"inline": "always"}


def jit(fn: _F) -> _F:
    """Compiles `fn` in nopython mode, cached on disk (numba's cache=True)."""
    return cast(_F, _NJIT(**_OPTIONS)(fn))


def jit_alloc(fn: _F) -> _F:
    """`jit` with numba's reference counting on, for the few entry kernels that
    allocate their scratch arrays (once per call) before calling the others."""
    return cast(_F, _NJIT(**{**_OPTIONS, "_nrt": True})(fn))


def jit_inline(fn: _F) -> _F:
    """`jit`, and inlined into its callers at numba's level (hot helpers: a call
    that passes arrays costs tens of nanoseconds of reference counting)."""
    return cast(_F, _NJIT(**_OPTIONS, **_INLINE)(fn))


def is_cached(kernel: Callable[..., Any]) -> bool:
    """Whether numba's on-disk cache holds `kernel` compiled for this machine.

    A cached kernel loads in a fraction of a second; one that is not compiles
    on its first call (with its callees, about a minute for the evaluator).
    This reads numba's cache index as numba does (its source stamp and the
    machine's codegen key); if numba's internals change, it answers False.
    """
    try:
        cache = kernel._cache  # type: ignore[attr-defined]
        index = cache._cache_file._load_index()
        magic = kernel.targetctx.codegen().magic_tuple()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - any surprise means "not known to be cached"
        return False
    return any(isinstance(key, tuple) and len(key) > 1 and key[1] == magic for key in index)


def cache_dir(kernel: Callable[..., Any]) -> str:
    """Where numba keeps the compiled `kernel` (a `__pycache__` beside the
    source, a user cache directory, or NUMBA_CACHE_DIR); "" if unknown."""
    try:
        return str(kernel._cache._cache_path)  # type: ignore[attr-defined]
    except AttributeError:
        return ""
