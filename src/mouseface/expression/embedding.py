"""Similarity, clustering and embedding of prototypes and frames.

- :func:`similarity` and :func:`cluster_order`: Pearson r between prototypes and their
  average-linkage clustering on ``1 - r`` (scipy).
- :func:`emotion_animal_contrast`: do prototypes group by emotion rather than by animal? Mean
  r of pairs with the same emotion in different animals minus mean r of pairs of the same
  animal with different emotions, with a permutation p-value (emotion labels shuffled within
  each animal) and a bootstrap interval (animals resampled).
- :func:`cut_agreement`: adjusted Rand index between a cut of the tree and the emotion /
  animal labels.
- :func:`embed_frames`: PCA, then t-SNE (scikit-learn), and :func:`separation`: silhouette of
  a labelling in PCA space.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, leaves_list, linkage
from scipy.spatial.distance import squareform
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import adjusted_rand_score, silhouette_score

from mouseface.errors import InputError
from mouseface.expression.prototypes import pearson_matrix
from mouseface.stats.bootstrap import percentile_ci
from mouseface.stats.permutation import permutation_p_value, permute_within

__all__ = [
    "similarity",
    "cluster_order",
    "emotion_animal_contrast",
    "cut_agreement",
    "embed_frames",
    "separation",
]


def similarity(vectors: np.ndarray) -> np.ndarray:
    """Pearson r between every pair of rows of ``vectors`` (k, d); returns (k, k)."""
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim != 2 or len(v) == 0:
        raise InputError(f"similarity needs a (k, d) array of prototypes, got shape {v.shape}")
    return np.clip(pearson_matrix(v, v), -1.0, 1.0)


def cluster_order(r: np.ndarray, *, method: str = "average") -> tuple[np.ndarray, np.ndarray]:
    """Hierarchical clustering of prototypes on the distance ``1 - r``.

    Parameters
    ----------
    r : ndarray, shape (k, k)
        Pearson r matrix (NaN treated as r = 0), k >= 2.
    method : str
        scipy linkage method.

    Returns
    -------
    Z : ndarray, shape (k - 1, 4)
        scipy linkage matrix.
    order : ndarray of int, shape (k,)
        Leaf order.
    """
    r = np.nan_to_num(np.asarray(r, dtype=np.float64), nan=0.0)
    if r.ndim != 2 or r.shape[0] != r.shape[1] or len(r) < 2:
        raise InputError(
            f"clustering needs a square matrix of at least 2 prototypes, got {r.shape}"
        )
    dist = np.clip(1.0 - (r + r.T) / 2.0, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    Z = linkage(squareform(dist, checks=False), method=method)
    return Z, leaves_list(Z)


def _pair_means(
    r: np.ndarray, pick: np.ndarray, animals: np.ndarray, emotions: np.ndarray
) -> tuple[float, float]:
    """Within-emotion and within-animal mean r among the rows ``pick`` of ``r``.

    ``animals`` and ``emotions`` label the picked rows; a row drawn twice (bootstrap) is never
    paired with its own copy.
    """
    rr = r[np.ix_(pick, pick)]
    a, e = animals, emotions
    pair = np.triu(np.ones(rr.shape, dtype=bool), 1) & (pick[:, None] != pick[None, :])
    same_e = pair & (e[:, None] == e[None, :]) & (a[:, None] != a[None, :])
    same_a = pair & (a[:, None] == a[None, :]) & (e[:, None] != e[None, :])
    we = float(rr[same_e].mean()) if same_e.any() else np.nan
    wa = float(rr[same_a].mean()) if same_a.any() else np.nan
    return we, wa


def emotion_animal_contrast(
    r: np.ndarray,
    animals: Sequence[str],
    emotions: Sequence[str],
    *,
    n_permutations: int = 1000,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Do prototypes cluster by emotion rather than by animal?

    Parameters
    ----------
    r : ndarray, shape (k, k)
        Pearson r between per-animal prototypes (rows ``animal:emotion``).
    animals, emotions : sequence of str, length k
    n_permutations : int
        Shuffles of the emotion labels within each animal for the p-value.
    n_boot : int
        Bootstrap resamples of animals for the intervals.
    ci : float
        Interval level.
    seed : int

    Returns
    -------
    dict
        ``within_emotion`` (mean r, same emotion, different animals), ``within_animal`` (mean
        r, same animal, different emotions), ``difference`` (the first minus the second), each
        with ``_low`` / ``_high`` bootstrap bounds; ``p_value`` (one-sided: the difference is
        larger than with the emotion labels shuffled within each animal; as that shuffle
        leaves the within-animal pairs alone when each animal has each emotion once, it tests
        whether prototypes of one emotion in different animals are more alike than random
        cross-animal pairs); ``n_animals``, ``n_prototypes``.

    Raises
    ------
    InputError
        Fewer than 2 animals, or no emotion shared by two animals.
    """
    r = np.asarray(r, dtype=np.float64)
    a = np.asarray(animals, dtype=str)
    e = np.asarray(emotions, dtype=str)
    uniq = np.unique(a)
    if len(uniq) < 2:
        raise InputError(
            f"comparing prototypes across animals needs at least 2 animals, got {len(uniq)}"
        )
    rows = np.arange(len(a))
    we, wa = _pair_means(r, rows, a, e)
    if not np.isfinite(we):
        raise InputError("no emotion has prototypes in two animals: nothing to compare")
    rng = np.random.default_rng(seed)
    # labels shuffled within animals: scipy.stats.permutation_test shuffles across the whole
    # sample, which would mix animals
    null = np.empty(n_permutations)
    for i in range(n_permutations):
        pwe, pwa = _pair_means(r, rows, a, permute_within(e, a, rng))
        null[i] = pwe - pwa
    boot = np.full((n_boot, 3), np.nan)
    for b in range(n_boot):
        chosen = rng.choice(uniq, size=len(uniq), replace=True)
        pick = np.concatenate([np.flatnonzero(a == g) for g in chosen])
        # each draw is a distinct animal, even when the same one is drawn twice
        labels = np.concatenate([np.full((a == g).sum(), j) for j, g in enumerate(chosen)])
        bwe, bwa = _pair_means(r, pick, labels, e[pick])
        boot[b] = bwe, bwa, bwe - bwa
    lo, hi = percentile_ci(boot, ci=ci, axis=0, min_finite=1)
    diff = we - wa
    return {
        "within_emotion": we,
        "within_emotion_low": float(lo[0]),
        "within_emotion_high": float(hi[0]),
        "within_animal": wa,
        "within_animal_low": float(lo[1]),
        "within_animal_high": float(hi[1]),
        "difference": diff,
        "difference_low": float(lo[2]),
        "difference_high": float(hi[2]),
        "p_value": permutation_p_value(diff, null) if np.isfinite(diff) else float("nan"),
        "n_animals": float(len(uniq)),
        "n_prototypes": float(len(a)),
    }


def cut_agreement(Z: np.ndarray, labels: Sequence[str], *, k: int) -> float:
    """Adjusted Rand index between the tree cut into ``k`` clusters and ``labels``."""
    if k < 1:
        raise InputError(f"number of clusters must be >= 1, got {k}")
    cut = fcluster(Z, t=k, criterion="maxclust")
    return float(adjusted_rand_score(np.asarray(labels, dtype=str), cut))


def embed_frames(
    X: np.ndarray, *, n_pca: int = 30, perplexity: float = 30.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """PCA of the frames, then a 2-D t-SNE of the PCA scores.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Frame features (e.g. HOG - neutral prototype), n >= 5.
    n_pca : int
        PCA components kept before t-SNE (clipped to the data).
    perplexity : float
        t-SNE perplexity (clipped below ``(n - 1) / 3``).
    seed : int

    Returns
    -------
    pcs : ndarray of float64, shape (n, n_pca)
    xy : ndarray of float64, shape (n, 2)
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 5:
        raise InputError(f"an embedding needs at least 5 frames, got {len(X)}")
    k = max(1, min(n_pca, X.shape[0] - 1, X.shape[1]))
    pcs = PCA(n_components=k, random_state=seed).fit_transform(X)
    perp = float(min(perplexity, max(1.0, (len(X) - 1) / 3.0 - 1e-6)))
    xy = TSNE(
        n_components=2, perplexity=perp, init="pca", random_state=seed, learning_rate="auto"
    ).fit_transform(pcs)
    return pcs, xy


def separation(points: np.ndarray, labels: Sequence[str]) -> float:
    """Silhouette score of ``labels`` among ``points`` (n, p); NaN with < 2 labels."""
    lab = np.asarray(labels, dtype=str)
    n_lab = len(np.unique(lab))
    if n_lab < 2 or n_lab >= len(lab):
        return float("nan")
    return float(silhouette_score(np.asarray(points, dtype=np.float64), lab))
