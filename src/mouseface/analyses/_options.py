"""Validation of an analysis' options (the config's ``analyses: {name: {...}}`` section)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from mouseface.errors import InputError

__all__ = ["check_options"]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def check_options(
    name: str,
    options: Mapping[str, Any] | None,
    defaults: Mapping[str, Any],
    *,
    choices: Mapping[str, tuple] | None = None,
) -> dict[str, Any]:
    """Merge an analysis' options with its defaults, rejecting unknown names and wrong types.

    Parameters
    ----------
    name : str
        Analysis name (used in messages: ``analyses.<name>.<option>``).
    options : mapping or None
        Options given in the config.
    defaults : mapping
        Every known option and its default. A default of ``None`` accepts a value of any type
        or ``None``; otherwise the value must be of the default's kind (bool, number, str,
        list), or ``None`` where ``choices`` lists ``None``.
    choices : mapping, optional
        Allowed values of some options.

    Returns
    -------
    dict
        ``defaults`` updated with ``options``.

    Raises
    ------
    InputError
        An unknown option (with the closest known name), a value of the wrong type or not
        among the choices.
    """
    options = dict(options or {})
    choices = choices or {}
    out = dict(defaults)
    for key, value in options.items():
        where = f"analyses.{name}.{key}"
        if key not in defaults:
            near = difflib.get_close_matches(str(key), list(defaults), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise InputError(
                f"{where}: unknown option{hint} Options of {name}: {', '.join(sorted(defaults))}"
            )
        allowed = choices.get(key)
        if allowed is not None and value not in allowed:
            raise InputError(f"{where}: must be one of {list(allowed)}, got {value!r}")
        default = defaults[key]
        if default is not None and value is not None and _kind(value) != _kind(default):
            raise InputError(
                f"{where}: expected a {_kind(default)} (like the default {default!r}), "
                f"got {value!r}"
            )
        if default is not None and value is None and (allowed is None or None not in allowed):
            raise InputError(f"{where}: must not be empty (default {default!r})")
        out[key] = list(value) if isinstance(value, tuple) else value
    for key in ("n_boot",):
        if key in out and (not isinstance(out[key], int) or out[key] < 20):
            raise InputError(f"analyses.{name}.{key}: must be an integer >= 20, got {out[key]!r}")
    if "ci" in out and not (isinstance(out["ci"], int | float) and 0.5 <= out["ci"] < 1):
        raise InputError(f"analyses.{name}.ci: must be in [0.5, 1), e.g. 0.95; got {out['ci']!r}")
    return out
