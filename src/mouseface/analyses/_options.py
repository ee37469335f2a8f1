"""Validation of an analysis' options (the config's ``analyses: {name: {...}}`` section).

Each analysis declares its options as a pydantic model (a subclass of :class:`AnalysisOptions`:
names, types, defaults, allowed values and ranges); :func:`check_options` validates the config's
mapping against it and turns pydantic's errors into one :class:`~mouseface.errors.InputError`
that names the option, the analysis and the fix (the closest known name for a typo).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, create_model

from mouseface.errors import InputError

__all__ = ["AnalysisOptions", "check_options", "ci_field", "n_boot_field"]


class AnalysisOptions(BaseModel):
    """Base of every analysis' options: unknown names are errors, values are not coerced
    (``"0.9"`` is not a number, ``1`` is not a bool; an integer is a number)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def n_boot_field(default: int) -> Any:
    """Bootstrap replicates of an interval: at least 20 (fewer give no usable percentiles)."""
    return Field(default, ge=20)


def ci_field() -> Any:
    """Coverage of an interval, in [0.5, 1); 0.95 by default."""
    return Field(0.95, ge=0.5, lt=1.0)


_KIND = {
    "float_type": "number",
    "int_type": "integer",
    "bool_type": "bool",
    "string_type": "str",
    "list_type": "list",
    "tuple_type": "list",
    "dict_type": "mapping",
}


def _message(name: str, model: type[BaseModel], err: dict) -> str:
    loc = err["loc"]
    key = str(loc[0]) if loc else ""
    where = f"analyses.{name}.{key}"
    value = err.get("input")
    ctx = err.get("ctx") or {}
    kind = err["type"]
    fields = model.model_fields
    if kind == "extra_forbidden":
        near = difflib.get_close_matches(key, list(fields), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return f"{where}: unknown option{hint} Options of {name}: {', '.join(sorted(fields))}"
    default = fields[key].default if key in fields else None
    if value is None and len(loc) == 1:
        return f"{where}: must not be empty (default {default!r})"
    if kind == "literal_error":
        return f"{where}: must be one of {ctx.get('expected')}, got {value!r}"
    if kind in _KIND:
        item = " (an item)" if len(loc) > 1 else ""
        what = _KIND[kind]
        what = ("an " if what[0] in "aeiou" else "a ") + what
        like = "" if default is None else f" (like the default {default!r})"
        return f"{where}{item}: expected {what}{like}, got {value!r}"
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        most = "at least" if kind == "too_short" else "at most"
        return f"{where}: must have {most} {n} items (default {default!r}), got {value!r}"
    bounds = {
        "greater_than_equal": (">=", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("<=", "le"),
        "less_than": ("<", "lt"),
    }
    if kind in bounds:
        op, k = bounds[kind]
        return f"{where}: must be {op} {ctx.get(k)} (default {default!r}), got {value!r}"
    return f"{where}: {err['msg'].removeprefix('Value error, ')} (got {value!r})"


def _model_from_defaults(
    defaults: Mapping[str, Any], choices: Mapping[str, tuple]
) -> type[AnalysisOptions]:
    """An options model from a ``{name: default}`` mapping: the default's type (any type where
    the default is None), ``choices`` as allowed values, ``n_boot`` >= 20, ``ci`` in [0.5, 1)."""
    fields: dict[str, Any] = {}
    for key, default in defaults.items():
        if key in choices:
            ann: Any = Literal[tuple(choices[key])]  # type: ignore[valid-type]
        elif default is None:
            ann = Any
        elif isinstance(default, bool):
            ann = StrictBool
        elif isinstance(default, int):
            ann = int
        elif isinstance(default, float):
            ann = float
        elif isinstance(default, str):
            ann = str
        elif isinstance(default, list | tuple):
            ann = list
        else:
            ann = type(default)
        if key == "n_boot":
            fields[key] = (ann, n_boot_field(default))
        elif key == "ci":
            fields[key] = (ann, ci_field())
        else:
            fields[key] = (ann, default)
    return create_model("Options", __base__=AnalysisOptions, **fields)


def check_options(
    name: str,
    options: Mapping[str, Any] | None,
    model: type[AnalysisOptions] | Mapping[str, Any],
    *,
    choices: Mapping[str, tuple] | None = None,
) -> dict[str, Any]:
    """Validate an analysis' options against its model and fill in the defaults.

    Parameters
    ----------
    name : str
        Analysis name (used in messages: ``analyses.<name>.<option>``).
    options : mapping or None
        Options given in the config.
    model : AnalysisOptions subclass, or mapping
        The analysis' options model. A ``{name: default}`` mapping is turned into one (type of
        the default, any type where it is None; ``choices`` lists allowed values).
    choices : mapping, optional
        Allowed values of some options (with a mapping ``model`` only).

    Returns
    -------
    dict
        Every option of the model, the given value or its default.

    Raises
    ------
    InputError
        An unknown option (with the closest known name), a value of the wrong type, not among
        the allowed values or out of range; every problem in one message.
    """
    if not isinstance(model, type):
        model = _model_from_defaults(model, choices or {})
    if options is not None and not isinstance(options, Mapping):
        raise InputError(
            f"analyses.{name}: options must be a mapping of option: value, got {options!r}"
        )
    try:
        validated = model.model_validate(dict(options or {}))
    except ValidationError as exc:
        messages = dict.fromkeys(_message(name, model, e) for e in exc.errors())
        raise InputError("; ".join(messages)) from None
    return {k: list(v) if isinstance(v, tuple) else v for k, v in validated.model_dump().items()}
