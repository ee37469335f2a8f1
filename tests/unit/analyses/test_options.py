"""Option checking of the analyses (pydantic models): defaults, types, choices, ranges, and
messages that name the option, the analysis and the fix."""

from __future__ import annotations

import pytest

from mouseface.analyses._options import check_options
from mouseface.analyses.meaning import Options as MeaningOptions
from mouseface.analyses.prototypes import Options as PrototypeOptions
from mouseface.analyses.state import Options as StateOptions
from mouseface.analyses.valence import Options as ValenceOptions
from mouseface.errors import InputError


def test_defaults_are_filled_in_and_values_kept():
    out = check_options("state", {"states": ["a", "b"], "ci": 0.9}, StateOptions)
    assert out["states"] == ["a", "b"] and out["ci"] == 0.9 and out["n_boot"] == 2000
    assert check_options("state", None, StateOptions)["readout"] == "amplitude"
    # an integer is a number; a list of numbers stays a list of floats
    assert check_options("valence", {"span": [-1, 5]}, ValenceOptions)["span"] == [-1.0, 5.0]
    assert check_options("meaning", {"after": "post"}, MeaningOptions)["after"] == "post"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"nboot": 10}, r"analyses\.state\.nboot: unknown option; did you mean 'n_boot'\?"),
        ({"ci": "high"}, r"analyses\.state\.ci: expected a number \(like the default 0\.95\)"),
        ({"readout": "x"}, r"analyses\.state\.readout: must be one of 'amplitude', 'response'"),
        ({"n_boot": 5}, r"analyses\.state\.n_boot: must be >= 20 \(default 2000\), got 5"),
        ({"ci": 1.0}, r"analyses\.state\.ci: must be < 1\.0"),
        ({"valid_only": 1}, r"analyses\.state\.valid_only: expected a bool"),
        ({"readout": None}, r"analyses\.state\.readout: must not be empty"),
    ],
)
def test_bad_options_name_the_option_and_the_fix(options, message):
    with pytest.raises(InputError, match=message):
        check_options("state", options, StateOptions)


def test_every_problem_is_reported_at_once():
    with pytest.raises(InputError) as err:
        check_options("prototypes", {"n_boot": 50.0, "embed_frames": -1}, PrototypeOptions)
    text = str(err.value)
    assert "prototypes.n_boot: expected an integer" in text
    assert "prototypes.embed_frames: must be >= 0" in text
    with pytest.raises(InputError, match="span: must have at least 2 items"):
        check_options("valence", {"span": [1.0]}, ValenceOptions)
    with pytest.raises(InputError, match="must be a mapping"):
        check_options("valence", ["span"], ValenceOptions)


def test_a_defaults_mapping_gives_the_same_checks():
    defaults = {"n_boot": 2000, "ci": 0.95, "readout": "amplitude", "states": None}
    out = check_options("decoding", {"states": "x"}, defaults)
    assert out["states"] == "x" and out["n_boot"] == 2000  # None default: any type
    with pytest.raises(InputError, match="did you mean 'n_boot'"):
        check_options("decoding", {"nboot": 10}, defaults)
    with pytest.raises(InputError, match="expected a number"):
        check_options("decoding", {"ci": "high"}, defaults)
    with pytest.raises(InputError, match="one of"):
        check_options("decoding", {"readout": "x"}, defaults, choices={"readout": ("amplitude",)})
    with pytest.raises(InputError, match=">= 20"):
        check_options("decoding", {"n_boot": 5}, defaults)
