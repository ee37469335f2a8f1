"""The one robust centre and scale (median, normal-consistent MAD) and the robust z-score."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import median_filter

from mouseface.features._running_median import running_median
from mouseface.features.motion import motion_outliers
from mouseface.features.quality import robust_scale, robust_z


def test_robust_scale_is_the_sd_of_normal_data_and_ignores_outliers():
    x = np.random.default_rng(0).normal(3.0, 2.0, 20000)
    x[:500] = 1e6  # 2.5 % wild values barely move it
    med, sd = robust_scale(x)
    assert med == pytest.approx(3.0, abs=0.1) and sd == pytest.approx(2.0, rel=0.05)
    # 1.4826 x MAD by hand, NaN and inf ignored
    y = np.array([1.0, 2.0, 4.0, 8.0, np.nan, np.inf])
    assert robust_scale(y) == pytest.approx((3.0, 1.4826 * 1.5), rel=1e-5)
    assert np.isnan(robust_scale(np.array([np.nan]))[0])


def test_robust_z_and_motion_outliers_use_it():
    ref = np.array([1.0, 2.0, 4.0, 8.0])
    z = robust_z(np.array([3.0, 3.0 + 1.4826 * 1.5]), ref)
    assert z == pytest.approx([0.0, 1.0], rel=1e-5)
    m = np.r_[1.0 + np.arange(100) * 1e-3, 5.0]
    med, sd = robust_scale(m)
    assert motion_outliers(m, z=6.0).tolist() == ((m - med) / sd > 6.0).tolist()
    assert motion_outliers(m, z=6.0)[-1]
    assert not motion_outliers(np.array([])).any()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 40),
    d=st.integers(1, 5),
    w=st.sampled_from([3, 5, 11]),
    levels=st.integers(2, 50),
    seed=st.integers(0, 10_000),
)
def test_running_median_equals_scipys_median_filter(n, d, w, levels, seed):
    # few distinct levels: many ties, the case where removing the leaving value is delicate
    rng = np.random.default_rng(seed)
    x = (rng.integers(0, levels, size=(n, d)) / levels).astype(np.float32)
    expect = median_filter(x, size=(w, 1), mode="nearest")
    np.testing.assert_array_equal(running_median(x, w), expect)


def test_running_median_with_nan_falls_back_to_scipy():
    x = np.arange(24, dtype=np.float32).reshape(8, 3)
    x[3, 1] = np.nan
    np.testing.assert_array_equal(
        running_median(x, 3), median_filter(x, size=(3, 1), mode="nearest")
    )
