"""Tests of the synthetic face renderer and anatomy.

The HOG checks use ``skimage.feature.hog`` with the paper's parameters on the face crop resized
to 256 px width, the way the pipeline reads faces.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.feature import hog

from mouseface.errors import InputError
from mouseface.synth import (
    AU_NAMES,
    EMOTIONS,
    PROFILES,
    Anatomy,
    FaceRenderer,
    random_anatomy,
)

SIZE = (240, 320)


def _hog(img: np.ndarray, r: FaceRenderer) -> np.ndarray:
    """HOG of a 252 x 212 crop centred on the animal's face (as generated datasets do)."""
    x, y, w, h = r.face_box
    x0 = int(np.clip(x + w // 2 - 126, 0, SIZE[1] - 252))
    y0 = int(np.clip(y + h // 2 - 106, 0, SIZE[0] - 212))
    crop = cv2.resize(img[y0 : y0 + 212, x0 : x0 + 252], (256, 216), interpolation=cv2.INTER_AREA)
    return hog(
        crop, orientations=8, pixels_per_cell=(32, 32), cells_per_block=(1, 1), transform_sqrt=True
    )


def _change(a: np.ndarray, b: np.ndarray) -> float:
    return float(1.0 - np.corrcoef(a, b)[0, 1])


@pytest.fixture(scope="module")
def renderers() -> list[FaceRenderer]:
    return [FaceRenderer(random_anatomy(s, name=f"m{s}"), size=SIZE) for s in (0, 1, 2, 3)]


def _noisy(r: FaceRenderer, au, rng: np.random.Generator, n: int) -> np.ndarray:
    """HOG of ``n`` frames with the strongest nuisances: 2 px jitter, 0.9 deg, +-10 % light."""
    return np.array(
        [
            _hog(
                r.render(
                    au,
                    dx=float(rng.choice([-2.0, 2.0])),
                    dy=float(rng.choice([-2.0, 2.0])),
                    rotation=float(rng.choice([-0.9, 0.9])),
                    gain=float(rng.choice([0.9, 1.1])),
                    noise=int(rng.integers(1 << 15)),
                ),
                r,
            )
            for _ in range(n)
        ]
    )


def test_render_shape_dtype_determinism(renderers) -> None:
    r = renderers[0]
    au = np.asarray(PROFILES["pain"].au)
    a = r.render(au, blink=0.3, tongue=0.5, dx=0.7, dy=-1.2, rotation=0.5, gain=1.05, noise=7)
    b = r.render(au, blink=0.3, tongue=0.5, dx=0.7, dy=-1.2, rotation=0.5, gain=1.05, noise=7)
    assert a.dtype == np.uint8 and a.shape == SIZE
    np.testing.assert_array_equal(a, b)
    again = FaceRenderer(random_anatomy(0, name="m0"), size=SIZE)
    np.testing.assert_array_equal(again.render(au, noise=3), r.render(au, noise=3))
    assert 20 < a.mean() < 200 and a.std() > 20


def test_mapping_and_array_inputs_agree(renderers) -> None:
    r = renderers[0]
    mapping = {"ear_angle": 0.5, "jaw_open": 0.4}
    arr = np.zeros(len(AU_NAMES))
    arr[AU_NAMES.index("ear_angle")] = 0.5
    arr[AU_NAMES.index("jaw_open")] = 0.4
    np.testing.assert_array_equal(r.render(mapping), r.render(arr))
    np.testing.assert_array_equal(r.render(None), r.render(np.zeros(len(AU_NAMES))))


def test_other_sizes_and_face_box() -> None:
    for size in ((120, 160), (480, 640), (240, 240)):
        r = FaceRenderer(random_anatomy(5), size=size)
        img = r.render(None, noise=0)
        assert img.shape == size
        x, y, w, h = r.face_box
        assert x >= 0 and y >= 0 and x + w <= size[1] and y + h <= size[0]
        assert w % 2 == 0 and h % 2 == 0 and w > size[1] // 3 and h > size[0] // 3
        # the face box holds the animal: more contrast inside than in the rest of the frame
        inside = img[y : y + h, x : x + w].std()
        assert inside > 15


def test_animals_differ() -> None:
    a, b = random_anatomy(1), random_anatomy(2)
    assert a != b
    assert random_anatomy(1) == a
    assert len(a.expressivity) == len(AU_NAMES)
    ra, rb = FaceRenderer(a, size=SIZE), FaceRenderer(b, size=SIZE)
    diff = np.abs(ra.render(None).astype(int) - rb.render(None).astype(int)).mean()
    assert diff > 5.0


def test_each_nuisance_changes_the_frame(renderers) -> None:
    r = renderers[1]
    base = r.render(None).astype(int)
    for kw in (
        {"blink": 1.0},
        {"tongue": 1.0},
        {"paw": 1.0},
        {"dx": 1.5},
        {"rotation": 0.8},
        {"gain": 0.9},
        {"noise": 1},
    ):
        assert np.abs(r.render(None, **kw).astype(int) - base).mean() > 0.05, kw


def test_paw_covers_the_snout(renderers) -> None:
    r = renderers[1]
    x, y = np.round(r.shapes(None).points["pad"].mean(axis=0)).astype(int)
    clean = r.render(None)[y - 10 : y + 10, x - 10 : x + 10].astype(int)
    paw = r.render(None, paw=1.0)[y - 10 : y + 10, x - 10 : x + 10].astype(int)
    assert np.abs(paw - clean).mean() > 10


def test_emotions_change_hog_more_than_nuisances(renderers) -> None:
    """A full-intensity expression moves the face's HOG (1 - Pearson r with the neutral
    prototype) far more than jitter, rotation, illumination and sensor noise do."""
    rng = np.random.default_rng(0)
    for r in renderers:
        neutral = _noisy(r, None, rng, 6).mean(axis=0)
        nuisance = max(_change(neutral, f) for f in _noisy(r, None, rng, 6))
        for e in EMOTIONS[1:]:
            emo = min(_change(neutral, f) for f in _noisy(r, np.asarray(PROFILES[e].au), rng, 2))
            assert emo > 1.5 * nuisance, (r.anatomy.name, e, emo, nuisance)


def test_expression_changes_are_consistent_across_animals(renderers) -> None:
    """Leave-one-animal-out in miniature: the HOG change of each emotion in one animal is
    closest to the same emotion's mean change in the other animals."""
    deltas = []
    for r in renderers:
        neutral = _hog(r.render(None), r)
        deltas.append(
            {e: _hog(r.render(np.asarray(PROFILES[e].au)), r) - neutral for e in EMOTIONS[1:]}
        )
    emotions = EMOTIONS[1:]
    correct = 0
    for i in range(len(renderers)):
        others = [d for j, d in enumerate(deltas) if j != i]
        protos = np.array([np.mean([d[e] for d in others], axis=0) for e in emotions])
        for k, e in enumerate(emotions):
            r = [np.corrcoef(deltas[i][e], p)[0, 1] for p in protos]
            correct += int(np.argmax(r) == k)
    assert correct >= 0.8 * len(renderers) * len(emotions)


def test_bad_input() -> None:
    r = FaceRenderer(Anatomy(name="x", seed=0), size=(64, 64))
    with pytest.raises(InputError, match="shape"):
        r.render(np.zeros(3))
    with pytest.raises(InputError, match="unknown action unit"):
        r.render({"grin": 1.0})
    with pytest.raises(InputError, match="size"):
        FaceRenderer(Anatomy(name="x", seed=0), size=(20, 20))
    with pytest.raises(InputError, match="seed"):
        random_anatomy(-1)
