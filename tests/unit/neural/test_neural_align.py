"""Face traces on imaging times: no look-ahead, means over (t - dt, t], trial onsets."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mouseface.neural import align_face, resample_causal, trial_samples


@settings(max_examples=60, deadline=None)
@given(
    fps=st.floats(5.0, 60.0),
    rate=st.floats(2.0, 40.0),
    phase=st.floats(0.0, 1.0),
    step=st.floats(1.0, 20.0),
)
def test_step_never_seen_before_it_happens(fps, rate, phase, step):
    frame_t = np.arange(0, 30, 1 / fps)
    face = (frame_t >= step).astype(float)  # a step at time `step` (first frame at/after it)
    first_frame = frame_t[np.argmax(face)]
    sample_t = phase / rate + np.arange(0, 30, 1 / rate)
    out = resample_causal(frame_t, face, sample_t)
    seen = out > 0
    assert not np.any(seen & (sample_t < first_frame))  # no sample before the step sees it
    after = sample_t >= first_frame
    assert np.all(seen[after])  # and every sample at or after it does


def test_mean_of_window_and_hold():
    frame_t = np.arange(10) * 0.1  # 10 fps
    v = np.arange(10, dtype=float)
    # sample at 0.55 with dt 0.2: frames at 0.4 and 0.5 -> mean 4.5
    assert resample_causal(frame_t, v, np.array([0.55]), window=0.2)[0] == 4.5
    # 0.05 s window holds no frame at 0.52: the last frame before (0.5 -> 5)
    assert resample_causal(frame_t, v, np.array([0.52]), window=0.01)[0] == 5.0
    assert np.isnan(resample_causal(frame_t, v, np.array([-0.1]), window=0.2)[0])
    v2 = v.copy()
    v2[5] = np.nan  # NaN frames are skipped
    assert resample_causal(frame_t, v2, np.array([0.55]), window=0.2)[0] == 4.0


def test_align_face_and_trials():
    frames = pd.DataFrame(
        {
            "frame": np.arange(100),
            "time": np.arange(100) / 20.0,
            "change": np.linspace(0, 1, 100),
            "strength_pain": np.sin(np.arange(100)),
            "p_pain": np.full(100, 0.3),
            "predicted": ["pain"] * 100,
            "blink": np.zeros(100, bool),
        }
    )
    out = align_face(frames, np.arange(1, 40) / 8.0)
    assert list(out.columns) == ["sample", "time", "change", "strength_pain", "p_pain"]
    assert len(out) == 39 and np.allclose(out["p_pain"], 0.3)
    trials = pd.DataFrame({"onset": [0.05, 1.0, 1.01, 99.0], "emotion": ["a", "b", "b", "c"]})
    tr = trial_samples(trials, np.arange(50) * 0.5)
    assert tr["onset_sample"].tolist() == [1, 2, 3, -1]
    assert tr["in_imaging"].tolist() == [True, True, True, False]
