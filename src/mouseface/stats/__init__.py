"""Statistics for the science analyses, with confidence intervals.

- :mod:`~mouseface.stats.bootstrap`: point estimates with intervals, the percentile interval
  of bootstrap replicates, the interval of a mean (:func:`scipy.stats.bootstrap`).
- :mod:`~mouseface.stats.correlation`: Spearman rank correlation and ROC AUC with intervals.
- :mod:`~mouseface.stats.mixed`: linear mixed-model slopes (statsmodels MixedLM).
- :mod:`~mouseface.stats.paired`: paired comparisons between two conditions per animal.
- :mod:`~mouseface.stats.permutation`: permutation tests (labels shuffled within groups).

Pure functions (numpy / pandas in, numbers out). Degenerate input (too few values, a constant
variable, a single group) raises :class:`mouseface.errors.InputError` saying what is missing.
"""

from __future__ import annotations

from mouseface.stats.bootstrap import Estimate, check_ci, mean_ci, percentile_ci
from mouseface.stats.correlation import auc_ci, roc_auc, spearman, spearman_ci
from mouseface.stats.mixed import MixedSlope, mixed_slope
from mouseface.stats.paired import (
    cohens_dz,
    hierarchical_paired,
    paired_animal_means,
    paired_tests,
)

__all__ = [
    "Estimate",
    "MixedSlope",
    "auc_ci",
    "check_ci",
    "cohens_dz",
    "hierarchical_paired",
    "mean_ci",
    "mixed_slope",
    "paired_animal_means",
    "paired_tests",
    "percentile_ci",
    "roc_auc",
    "spearman",
    "spearman_ci",
]
