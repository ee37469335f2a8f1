"""Numba kernels behind :func:`mouseface.features.hog.hog` (private).

The kernels reproduce ``skimage.feature.hog`` (single channel; semantics read from scikit-image
0.26, and the tests compare with the installed version) step by step:

* the image is taken in the float type scikit-image uses (float64 for integer input, float32 for
  float32 input), optionally square-rooted;
* gradients are central differences ``I[y+1] - I[y-1]`` and ``I[:, x+1] - I[:, x-1]`` with zero
  gradient on the first and last image row (column), computed in that float type and promoted to
  float64;
* magnitude ``hypot(gc, gr)`` (here ``sqrt(gc**2 + gr**2)``, at most 1 ulp apart); orientation
  ``rad2deg(arctan2(gr, gc)) % 180`` in float64; a pixel goes to bin ``i`` when
  ``E[i] <= o < E[i + 1]`` with ``E[i] = (180.0 / n) * i`` (a pixel whose orientation lands on or
  beyond ``E[n]`` -- e.g. ``o == 180.0`` after the modulo -- is counted in no bin, as in
  scikit-image);
* each cell sums the magnitudes of its pixels per bin in float32 (scikit-image's ``cdef float``
  accumulator), in row-major order, and divides by the cell area in float32;
* blocks are normalised in float64 (``eps = 1e-5``), the result is written as float32.

Only the pixels of whole cells are binned; the row/column just past the last whole cell is read
for the central difference when the image has one.

Speed: the orientation bin is decided from a cheap polynomial arctangent (max error 8.2e-5 rad),
vectorised over a row. A pixel whose approximate angle lies within ``edge_tolerance(n)`` bins of a
bin edge is re-binned with the exact formula above, using libm's ``atan2`` (``math.atan2``).
numpy's ``arctan2`` is not always libm: numpy 2.x on AVX-512 CPUs uses SVML, which can differ by
an ulp, and on an exact tie (e.g. ``gr / gc = 1 + sqrt(2)``: 67.5 degrees) that moves the pixel
to the neighbouring bin. So a pixel whose libm orientation lies within ``TIE_BAND_DEG`` (1e-10
degrees, ~1000x the ulp-level gap) of an edge is also recorded (:func:`hog_batch`); the caller
bins the recorded gradients with numpy's own expression (:func:`numpy_bins`) and recomputes the
few frames where the two disagree, passing numpy's bins as overrides. Exact ties that are common
in real frames -- axis-aligned gradients (``gc == 0`` or ``gr == 0``) and diagonals
(``|gc| == |gr|``) -- get bins precomputed with numpy's formula (:func:`special_bins`).

Cells are accumulated interleaved across a row (pixel ``j`` of every cell, then pixel ``j + 1``),
which keeps scikit-image's per-cell, per-bin summation order while letting independent float32
additions overlap.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

# atan(t) ~ t * P(t**2) on [0, 1]; least-squares near-minimax fit, max abs error 8.2e-5 rad.
_A0 = 0.9992138123656019
_A1 = -0.3211749688369513
_A2 = 0.14626446421731293
_A3 = -0.038986515070918076
ATAN_MAX_ERR = 8.2e-5
# Orientations (degrees) this close to a bin edge are decided by numpy's arctan2, not libm's:
# numpy 2.x on AVX-512 computes arctan2 with SVML, up to a few ulps (~1e-13 deg) from libm.
TIE_BAND_DEG = 1e-10
_RAD2DEG = 180.0 / np.pi  # numpy's rad2deg multiplies by this same double
_HALF_PI = 0.5 * np.pi

NORM_CODES = {"L1": 0, "L1-sqrt": 1, "L2": 2, "L2-Hys": 3}


def edge_tolerance(n: int) -> float:
    """Distance to a bin edge (in bins) below which a pixel takes the exact path."""
    return max(1e-4, 4.0 * ATAN_MAX_ERR * n / np.pi)


@njit(cache=True, nogil=True, error_model="numpy")
def atan_unit(t: float) -> float:
    """Approximate ``atan(t)`` for ``0 <= t <= 1`` (abs error < ``ATAN_MAX_ERR``)."""
    t2 = t * t
    return t * (_A0 + t2 * (_A1 + t2 * (_A2 + t2 * _A3)))


@njit(cache=True, nogil=True, error_model="numpy")
def exact_orientation(gc: float, gr: float) -> float:
    """``rad2deg(arctan2(gr, gc)) % 180`` in float64, with libm's ``atan2`` (``math.atan2``)."""
    o = math.atan2(gr, gc) * _RAD2DEG
    # numpy's float remainder (Python semantics): result has the sign of the divisor
    m = np.fmod(o, 180.0)
    if m != 0.0:
        if m < 0.0:
            m += 180.0
    else:
        m = 0.0
    return m


@njit(cache=True, nogil=True, error_model="numpy")
def orientation_bin(m: float, edges: np.ndarray, n: int) -> int:
    """Bin ``i`` with ``edges[i] <= m < edges[i + 1]``; ``n`` means "no bin"."""
    for i in range(n):
        if m >= edges[i] and m < edges[i + 1]:
            return i
    return n


@njit(cache=True, nogil=True, error_model="numpy")
def exact_bin(gc: float, gr: float, edges: np.ndarray, n: int) -> int:
    """Bin of one gradient by the exact formula with libm's ``atan2``; ``n`` means "no bin".

    Equal to scikit-image's bin except, possibly, when the orientation lies within
    ``TIE_BAND_DEG`` of a bin edge (see :func:`near_edge` and :func:`numpy_bins`).
    """
    return orientation_bin(exact_orientation(gc, gr), edges, n)


@njit(cache=True, nogil=True, error_model="numpy")
def near_edge(m: float, edges: np.ndarray, n: int) -> bool:
    """Whether orientation ``m`` (degrees, ``0 <= m <= 180``) is within ``TIE_BAND_DEG`` of an edge.

    Edges 0 and 180 count: a gradient just below 180 degrees may round to 180 (no bin) or not.
    """
    k = int(m * n / 180.0 + 0.5)
    k = min(max(k, 0), n)
    return abs(m - edges[k]) <= TIE_BAND_DEG


def numpy_bins(gc: np.ndarray, gr: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bins of gradients by scikit-image's own numpy expression (the CPU's ``np.arctan2``).

    Parameters
    ----------
    gc, gr : ndarray, shape (k,), float64
        Column and row gradients.
    edges : ndarray, shape (n + 1,), float64
        Bin edges ``(180.0 / n) * i`` in degrees.

    Returns
    -------
    ndarray, shape (k,), int32
        Bin of each gradient, ``n`` where scikit-image counts it in no bin.
    """
    n = edges.size - 1
    o = np.rad2deg(np.arctan2(np.asarray(gr, np.float64), np.asarray(gc, np.float64))) % 180
    b = np.searchsorted(edges, o, side="right") - 1
    return np.where((b < 0) | (b >= n), n, b).astype(np.int32)


def special_bins(edges: np.ndarray, n: int) -> np.ndarray:
    """Bins of the directions ``np.arctan2`` returns exactly whatever the magnitude.

    Returns float64 ``[b0, b45, b90, b135]``: gradients with ``gr == 0``; ``|gc| == |gr|`` with
    equal signs; ``gc == 0``; ``|gc| == |gr|`` with opposite signs. An entry is -1 (exact path)
    if the two sign variants of a direction fall in different bins. Decided with numpy's own
    ``arctan2`` (:func:`numpy_bins`), as scikit-image decides them.
    """
    gc = np.array([1.0, -1.0, 1.0, -1.0, 0.0, 0.0, -1.0, 1.0])
    gr = np.array([0.0, 0.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    b = numpy_bins(gc, gr, edges[: n + 1]).reshape(4, 2)
    return np.where(b[:, 0] == b[:, 1], b[:, 0], -1).astype(np.float64)


# Loaders: dst[:ncols] = sqrt(frame[y, :ncols]) (or a copy) in dst's float type.
def _load_row(frame, y, ncols, do_sqrt, lut, dst):  # pragma: no cover - replaced by overload
    raise NotImplementedError


@overload(_load_row, jit_options={"nogil": True, "error_model": "numpy"})
def _load_row_impl(frame, y, ncols, do_sqrt, lut, dst):
    if frame.dtype == types.uint8:
        # lut[v] holds float64(v) or sqrt(float64(v)): a table look-up is cheaper than sqrt

        def impl_u8(frame, y, ncols, do_sqrt, lut, dst):
            row = frame[y]
            for x in range(ncols):
                dst[x] = lut[row[x]]

        return impl_u8

    def impl(frame, y, ncols, do_sqrt, lut, dst):
        row = frame[y]
        if do_sqrt:
            for x in range(ncols):
                dst[x] = math.sqrt(row[x])
        else:
            for x in range(ncols):
                dst[x] = row[x]

    return impl


def bin_coefficients(n: int) -> np.ndarray:
    """Polynomial coefficients and offsets of ``_row_bins``, scaled from radians to bins."""
    return np.array([_A0, _A1, _A2, _A3, _HALF_PI, np.pi]) * (n / np.pi)


@njit(cache=True, nogil=True, error_model="numpy")
def _row_bins(cur, prv, nxt, x0, x1, coef, tol, sp, mag, bins):
    """Gradient magnitude and bin of pixels ``x0 <= x < x1`` of a row (not its first/last column).

    ``bins`` gets the bin as a float, or -1 where the exact path must decide (also whenever the
    approximation is not finite). Written branch-free, on views starting at 0, so that it
    vectorises.
    """
    b0 = sp[0]
    b45 = sp[1]
    b90 = sp[2]
    b135 = sp[3]
    c0 = coef[0]
    c1 = coef[1]
    c2 = coef[2]
    c3 = coef[3]
    quarter = coef[4]  # n / 2 bins: a quarter turn
    half = coef[5]  # n bins: a half turn
    lim = 0.5 - tol
    left = cur[x0 - 1 : x1 - 1]
    right = cur[x0 + 1 : x1 + 1]
    up = prv[x0:x1]
    down = nxt[x0:x1]
    mag_out = mag[x0:x1]
    bins_out = bins[x0:x1]
    for i in range(x1 - x0):
        gc = np.float64(right[i] - left[i])
        gr = np.float64(down[i] - up[i])
        mag_out[i] = math.sqrt(gc * gc + gr * gr)
        ax = abs(gc)
        ay = abs(gr)
        t = min(ax, ay) / max(ax, ay)  # NaN when both are 0: replaced by b0 below
        t2 = t * t
        u = t * (c0 + t2 * (c1 + t2 * (c2 + t2 * c3)))  # angle to the nearest axis, in bins
        same = (gc < 0.0) == (gr < 0.0)
        a = (quarter - u) if ay > ax else u
        v = a if same else (half - a)  # unsigned angle in bins, 0 <= v <= n
        bi = np.floor(v)
        b = bi if abs(v - bi - 0.5) <= lim else -1.0
        b = (b45 if same else b135) if ax == ay else b
        b = b90 if gc == 0.0 else b
        b = b0 if gr == 0.0 else b
        bins_out[i] = b


@njit(cache=True, nogil=True, error_model="numpy")
def _tie_bin(f, pix, gc, gr, b, over_pix, over_bin, ties_f, ties_pix, ties_g, ties_b, ties_n):
    """Bin of a pixel whose orientation ties with a bin edge (up to ``TIE_BAND_DEG``).

    With overrides (``over_pix`` sorted flat pixel indices, non-empty) the pixel takes its
    override bin if it has one, else the libm bin ``b``. Without, the tie is recorded in the
    ``ties_*`` buffers (``ties_n[0]`` records so far) and ``b`` is returned; returns -1 with the
    buffers full (the frame must be redone with larger buffers).
    """
    if over_pix.size > 0:
        i = np.searchsorted(over_pix, pix)
        if i < over_pix.size and over_pix[i] == pix:
            return over_bin[i]
        return b
    k = ties_n[0]
    if k >= ties_pix.size:
        return -1
    ties_f[k] = f
    ties_pix[k] = pix
    ties_g[k, 0] = gc
    ties_g[k, 1] = gr
    ties_b[k] = b
    ties_n[0] = k + 1
    return b


@njit(cache=True, nogil=True, error_model="numpy")
def _frame_hist(
    frame, f, do_sqrt, lut, n, cr, cc, edges, sp, coef, tol, tbuf, mag, bins, ibins, acc, hist,
    over_pix, over_bin, ties_f, ties_pix, ties_g, ties_b, ties_n,
):  # fmt: skip
    """Cell histograms of frame ``f`` into ``hist`` (n_cells_row, n_cells_col, n), float64.

    Returns False when the tie buffers overflowed (``hist`` is then incomplete).
    """
    h, w = frame.shape
    ncr = h // cr
    ncc = w // cc
    hc = ncr * cr
    wc = ncc * cc
    wl = min(w, wc + 1)
    hl = min(h, hc + 1)
    area = np.float32(cr * cc)
    nb = n + 1
    x1 = min(wc, w - 1)
    _load_row(frame, 0, wl, do_sqrt, lut, tbuf[0])
    if hl > 1:
        _load_row(frame, 1, wl, do_sqrt, lut, tbuf[1])
    acc[:] = 0.0
    for y in range(hc):
        if y >= 1 and y + 1 < hl:
            _load_row(frame, y + 1, wl, do_sqrt, lut, tbuf[(y + 1) % 3])
        cur = tbuf[y % 3]
        if 1 <= y <= h - 2:
            prv = tbuf[(y - 1) % 3]
            nxt = tbuf[(y + 1) % 3]
        else:  # first/last image row: zero row gradient
            prv = cur
            nxt = cur
        # first and last image column: zero column gradient
        for x in (0, w - 1):
            if x < wc and (x == 0 or x >= x1):
                gr = np.float64(nxt[x] - prv[x])
                mag[x] = abs(gr)
                bins[x] = sp[0] if gr == 0.0 else sp[2]
        _row_bins(cur, prv, nxt, 1, x1, coef, tol, sp, mag, bins)
        n_exact = 0
        for x in range(wc):
            b = np.int32(bins[x])
            ibins[x] = b
            n_exact += b < 0
        if n_exact > 0:  # pixels near a bin edge: the exact formula
            for x in range(wc):
                if ibins[x] < 0:
                    gc = 0.0
                    if 0 < x < w - 1:
                        gc = np.float64(cur[x + 1] - cur[x - 1])
                    gr = np.float64(nxt[x] - prv[x])
                    m = exact_orientation(gc, gr)
                    b = orientation_bin(m, edges, n)
                    if near_edge(m, edges, n):
                        b = _tie_bin(
                            f, y * w + x, gc, gr, b, over_pix, over_bin,
                            ties_f, ties_pix, ties_g, ties_b, ties_n,
                        )  # fmt: skip
                        if b < 0:
                            return False
                    ibins[x] = b
        # float32 running sums per cell and bin, in scikit-image's row-major order; cells are
        # interleaved so that consecutive additions are independent
        for j in range(cc):
            for k in range(ncc):
                x = k * cc + j
                i = k * nb + ibins[x]
                acc[i] = acc[i] + mag[x]
        if y % cr == cr - 1:
            r = y // cr
            for k in range(ncc):
                for b in range(n):
                    hist[r, k, b] = np.float32(acc[k * nb + b]) / area
            acc[:] = 0.0
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _normalize_blocks(hist, br, bc, norm, tmp, out):
    """Normalise every block of ``hist`` into the flat float32 ``out`` (scikit-image order)."""
    ncr, ncc, n = hist.shape
    eps = 1e-5
    eps2 = eps * eps
    p = 0
    for r in range(ncr - br + 1):
        for c in range(ncc - bc + 1):
            q = 0
            for i in range(br):
                for j in range(bc):
                    for o in range(n):
                        tmp[q] = hist[r + i, c + j, o]
                        q += 1
            if norm == 0 or norm == 1:
                s = 0.0
                for k in range(q):
                    s += abs(tmp[k])
                d = s + eps
                for k in range(q):
                    v = tmp[k] / d
                    out[p + k] = math.sqrt(v) if norm == 1 else v
            else:
                s = 0.0
                for k in range(q):
                    s += tmp[k] * tmp[k]
                d = math.sqrt(s + eps2)
                if norm == 2:
                    for k in range(q):
                        out[p + k] = tmp[k] / d
                else:
                    s2 = 0.0
                    for k in range(q):
                        v = min(tmp[k] / d, 0.2)
                        tmp[k] = v
                        s2 += v * v
                    d2 = math.sqrt(s2 + eps2)
                    for k in range(q):
                        out[p + k] = tmp[k] / d2
            p += q


@njit(cache=True, nogil=True, error_model="numpy")
def _frame_status(frame, do_sqrt):
    """0 if the frame is usable, 1 if it holds NaN/inf, 2 if negative with ``do_sqrt``."""
    h, w = frame.shape
    neg = False
    for y in range(h):
        for x in range(w):
            v = frame[y, x]
            if not math.isfinite(v):
                return 1
            if v < 0:
                neg = True
    if neg and do_sqrt:
        return 2
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def hog_batch(
    frames, start, stop, do_sqrt, lut, check, n, cr, cc, br, bc, norm, edges, sp, coef, tol,
    tbuf, out, status, over_pix, over_bin, ties_f, ties_pix, ties_g, ties_b, ties_n,
):  # fmt: skip
    """HOG of ``frames[start:stop]`` into ``out[start:stop]``; bad frames flagged in ``status``.

    ``tbuf`` is a (3, width) scratch array in the float type of the gradient computation
    (float32 for float32 frames, float64 otherwise). Runs without the GIL.

    Pixels whose orientation ties with a bin edge are binned with libm's ``atan2`` and recorded
    in ``ties_f`` (frame, int64), ``ties_pix`` (``y * width + x``, int64), ``ties_g`` ((k, 2)
    float64 ``gc, gr``) and ``ties_b`` (libm bin, int32), ``ties_n[0]`` counting the records; a
    frame whose ties do not fit is left out of them and flagged ``status = 3``. With non-empty
    ``over_pix`` (sorted flat pixel indices; one frame only) and ``over_bin``, those pixels
    take the given bins instead and nothing is recorded.
    """
    nf, h, w = frames.shape
    ncr = h // cr
    ncc = w // cc
    wc = ncc * cc
    mag = np.zeros(max(wc, 1))
    bins = np.zeros(max(wc, 1))
    ibins = np.zeros(max(wc, 1), dtype=np.int32)
    acc = np.zeros(ncc * (n + 1), dtype=np.float32)
    hist = np.zeros((ncr, ncc, n))
    tmp = np.zeros(br * bc * n)
    for f in range(start, stop):
        frame = frames[f]
        if check:
            s = _frame_status(frame, do_sqrt)
            if s != 0:
                status[f] = s
                out[f, :] = 0.0
                continue
        n0 = ties_n[0]
        ok = _frame_hist(
            frame, f, do_sqrt, lut, n, cr, cc, edges, sp, coef, tol, tbuf, mag, bins, ibins,
            acc, hist, over_pix, over_bin, ties_f, ties_pix, ties_g, ties_b, ties_n,
        )  # fmt: skip
        if not ok:
            ties_n[0] = n0
            status[f] = 3
            out[f, :] = 0.0
            continue
        _normalize_blocks(hist, br, bc, norm, tmp, out[f])
