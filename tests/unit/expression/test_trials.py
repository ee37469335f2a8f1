from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mouseface.errors import InputError
from mouseface.expression.trials import trial_table, window_mask, window_masks


def _events(onsets):
    return pd.DataFrame(
        {
            "onset": onsets,
            "duration": 1.0,
            "trial_type": "shock",
            "intensity": [float(i) for i in range(len(onsets))],
            "state": None,
            "trial": np.arange(1, len(onsets) + 1),
        }
    )


def test_window_mask_half_open():
    t = np.arange(0, 10, 0.5)
    m = window_mask(t, 4.0, (-2, 0))
    assert t[m].tolist() == [2.0, 2.5, 3.0, 3.5]


def test_response_is_response_minus_baseline_change():
    t = np.arange(200) / 20
    change = np.full(200, 0.01)
    change[(t >= 3) & (t < 5)] = 0.11
    strength = {"pain": np.where((t >= 3) & (t < 5), 0.5, 0.2)}
    ev = _events([3.0, 7.0])
    masks = window_masks(t, ev, windows={"baseline": (-2, 0), "response": (0, 2)})
    good = np.ones(200, bool)
    tab = trial_table(ev, t, change, strength, good=good, masks=masks)
    assert tab["response"].tolist() == pytest.approx([0.10, 0.0])
    assert tab["strength_pain"].tolist() == pytest.approx([0.3, 0.0])
    assert tab["n_baseline"].tolist() == [40, 40] and tab["valid"].all()
    moving = np.ones(200, bool)
    moving[(t >= 1) & (t < 3)] = False
    tab2 = trial_table(ev, t, change, strength, good=good, still=moving, masks=masks)
    assert tab2["valid"].tolist() == [False, True]


def test_window_without_frames_is_input_error():
    t = np.arange(100) / 20
    with pytest.raises(InputError, match=r"trial 1 \(onset 0.000 s\): the baseline window"):
        window_masks(
            t, _events([0.0]), windows={"baseline": (-2, 0), "response": (0, 2)}, source="ev.tsv"
        )
