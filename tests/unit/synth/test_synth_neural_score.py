"""Scoring the tuned-neuron calls against the generator's truth (printed by the demo)."""

from __future__ import annotations

import pandas as pd
import pytest

from mouseface.errors import InputError
from mouseface.synth.neural import score_tuned


def test_score_tuned_counts_false_discoveries_and_misses(tmp_path):
    truth = pd.DataFrame(
        {
            "plane": [0, 0, 0, 1],
            "neuron": [0, 1, 2, 0],
            "iscell": [True, True, True, False],
            "role": ["tuned", "tuned", "untuned", "not_cell"],
            "emotion": ["pain", "pleasure", "", ""],
            "gain": [1.0, 1.0, 0.0, 0.0],
        }
    )
    truth.to_parquet(tmp_path / "neurons_s1.parquet")
    rows = [(n, e) for n in (0, 1, 2) for e in ("pain", "pleasure")]
    neurons = pd.DataFrame(
        {
            "session": "s1",
            "plane": 0,
            "neuron": [n for n, _ in rows],
            "emotion": [e for _, e in rows],
            # found: neuron 0 pain (true), neuron 2 pleasure (false); missed: neuron 1 pleasure
            "tuned": [True, False, False, False, False, True],
        }
    )
    sc = score_tuned(neurons, tmp_path)
    assert sc == {"n_true": 2, "n_found": 2, "fdp": 0.5, "power": 0.5}
    with pytest.raises(InputError, match="no ground truth"):
        score_tuned(neurons.assign(session="s2"), tmp_path)
