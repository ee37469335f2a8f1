"""Draw one frame of the overlay video: face, HOG glyph, label and scrolling strength traces.

Everything is drawn with OpenCV into a uint8 RGB canvas; what does not change from frame to frame
(axes, grid, legend, caption) is drawn once into a background that each frame starts from, so a
frame costs a resize, a glyph, a few polylines and two lines of text.

Layout (``W`` = face width in pixels, ``H`` = face height)::

    +-----------+-----------+
    |   face    | HOG glyph |   H rows
    +-----------+-----------+
    | label box | time      |   LABEL_H rows
    +-----------------------+
    | strength traces       |   TRACE_H rows (the last ``window`` seconds, now at the right)
    +-----------------------+
    | caption               |   CAPTION_LINE_H rows per line
    +-----------------------+
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from mouseface.report.glyphs import hog_glyph

LABEL_H = 40
TRACE_H = 170
CAPTION_LINE_H = 16
_CAPTION_SCALE = 0.38
_MARGIN_L = 44  # room for the y tick labels
_MARGIN_R = 110  # room for the legend
_MARGIN_B = 18  # room for the x tick labels
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_WHITE = (255, 255, 255)
_GRID = (70, 70, 70)
_TEXT = (220, 220, 220)
_BAND = (48, 48, 64)


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` -> ``(r, g, b)`` ints."""
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


@dataclass(frozen=True)
class Layout:
    """Pixel geometry of an overlay frame; boxes are ``(x, y, w, h)``.

    Attributes
    ----------
    width, height : int
        Frame size in pixels (both even, as H.264 in yuv420p needs).
    face_box, glyph_box, label_box, time_box, trace_box, caption_box : tuple of int
        Where each part is drawn. ``label_box`` holds only the label (swatch and name), so that
        it changes exactly when the label does.
    """

    width: int
    height: int
    face_box: tuple[int, int, int, int]
    glyph_box: tuple[int, int, int, int]
    label_box: tuple[int, int, int, int]
    time_box: tuple[int, int, int, int]
    trace_box: tuple[int, int, int, int]
    caption_box: tuple[int, int, int, int]


def wrap_caption(text: str, width: int) -> list[str]:
    """Split ``text`` at spaces into lines that fit ``width`` pixels in the caption's font."""
    lines: list[str] = []
    for word in text.split(" "):
        trial = f"{lines[-1]} {word}" if lines else word
        fits = cv2.getTextSize(trial, _FONT, _CAPTION_SCALE, 1)[0][0] <= width - 8
        if lines and fits:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def make_layout(face_hw: tuple[int, int], *, caption_lines: int = 1) -> Layout:
    """Layout for a face panel of ``face_hw = (H, W)`` pixels (W even)."""
    h, w = (int(v) for v in face_hw)
    width = 2 * w
    y_label = h
    y_trace = y_label + LABEL_H
    y_caption = y_trace + TRACE_H
    height = y_caption + CAPTION_LINE_H * max(1, caption_lines) + 4
    height += height % 2
    return Layout(
        width=width,
        height=height,
        face_box=(0, 0, w, h),
        glyph_box=(w, 0, w, h),
        label_box=(0, y_label, w, LABEL_H),
        time_box=(w, y_label, w, LABEL_H),
        trace_box=(0, y_trace, width, TRACE_H),
        caption_box=(0, y_caption, width, height - y_caption),
    )


class FramePainter:
    """Draws overlay frames for one clip (see the module docstring for the layout).

    Parameters
    ----------
    layout : Layout
    times : ndarray of float64, shape (n_frames,)
        Frame times of the whole session, seconds.
    strengths : Mapping[str, ndarray of float, shape (n_frames,)]
        ``strength_<e>`` per emotion name, in legend order.
    labels : Sequence[str]
        Label of every frame (``""`` for none), length n_frames.
    colours : Mapping[str, str]
        ``"#rrggbb"`` per emotion / label name.
    glyph_grid : (cells_y, cells_x, orientations, cell_px)
        HOG grid of the glyph and the size of one cell's tile in the frame.
    glyph_vmax : float or None
        HOG value drawn at full length and brightness (fixed over the clip); None: each
        frame's largest value.
    window : float
        Seconds of trace shown, ending at the current frame.
    bands : sequence of (onset, offset, name)
        Stimulus periods (s) shaded behind the traces.
    caption : sequence of str
        Static lines under the traces (what the label, glyph and traces are); see
        :func:`wrap_caption`.
    """

    def __init__(
        self,
        layout: Layout,
        *,
        times: np.ndarray,
        strengths: Mapping[str, np.ndarray],
        labels: Sequence[str],
        colours: Mapping[str, str],
        glyph_grid: tuple[int, int, int, int],
        glyph_vmax: float | None,
        window: float,
        bands: Sequence[tuple[float, float, str]] = (),
        caption: Sequence[str] = (),
    ) -> None:
        self.layout = layout
        self._t = np.asarray(times, dtype=np.float64)
        self._labels = list(labels)
        self._rgb = {k: hex_rgb(v) for k, v in colours.items()}
        self._grid = glyph_grid
        self._vmax = None if glyph_vmax is None else float(glyph_vmax)
        self._window = float(window)
        self._bands = [(float(a), float(b), str(n)) for a, b, n in bands]
        x, y, w, h = layout.trace_box
        self._plot = (x + _MARGIN_L, y + 6, w - _MARGIN_L - _MARGIN_R, h - 6 - _MARGIN_B)
        names = list(strengths)
        values = np.stack([np.asarray(strengths[e], dtype=np.float64) for e in names])
        finite = values[np.isfinite(values)]
        lo, hi = np.percentile(finite, [0.5, 99.5]) if finite.size else (0.0, 1.0)
        if not hi > lo:
            lo, hi = lo - 0.5, hi + 0.5
        pad = 0.05 * (hi - lo)
        self._lo, self._hi = float(lo - pad), float(hi + pad)
        px, py, pw, ph = self._plot
        ys = py + (self._hi - values) / (self._hi - self._lo) * (ph - 1)
        self._ys = np.rint(np.clip(np.nan_to_num(ys, nan=py + ph - 1), py, py + ph - 1))
        self._ys = self._ys.astype(np.int32)
        self._names = names
        self._background = self._draw_background(caption)

    # ------------------------------------------------------------------ static parts
    def _y_of(self, v: float) -> int:
        px, py, pw, ph = self._plot
        return int(round(py + (self._hi - v) / (self._hi - self._lo) * (ph - 1)))

    def _draw_background(self, caption: Sequence[str]) -> np.ndarray:
        lay = self.layout
        img = np.zeros((lay.height, lay.width, 3), dtype=np.uint8)
        px, py, pw, ph = self._plot
        cv2.rectangle(img, (px, py), (px + pw - 1, py + ph - 1), _GRID, 1)
        for v in _nice_ticks(self._lo, self._hi):
            yy = self._y_of(v)
            cv2.line(img, (px, yy), (px + pw - 1, yy), _GRID, 1)
            cv2.putText(img, f"{v:.2f}", (2, yy + 4), _FONT, 0.35, _TEXT, 1, cv2.LINE_AA)
        step = _nice_step(self._window)
        k = 0.0
        while k <= self._window + 1e-9:
            xx = px + int(round((1 - k / self._window) * (pw - 1)))
            cv2.line(img, (xx, py + ph - 1), (xx, py + ph + 3), _TEXT, 1)
            label = "now" if k == 0 else f"-{k:g} s"
            cv2.putText(img, label, (xx - 14, py + ph + 14), _FONT, 0.35, _TEXT, 1, cv2.LINE_AA)
            k += step
        lx = px + pw + 10
        cv2.putText(img, "strength", (lx, py + 10), _FONT, 0.4, _TEXT, 1, cv2.LINE_AA)
        for j, e in enumerate(self._names):
            yy = py + 26 + 16 * j
            cv2.line(img, (lx, yy - 4), (lx + 14, yy - 4), self._rgb.get(e, _WHITE), 2)
            cv2.putText(img, e[:12], (lx + 18, yy), _FONT, 0.4, _TEXT, 1, cv2.LINE_AA)
        cx, cy, cw, ch = lay.caption_box
        for k, line in enumerate(caption):
            org = (cx + 4, cy + 13 + CAPTION_LINE_H * k)
            cv2.putText(img, line, org, _FONT, _CAPTION_SCALE, _TEXT, 1, cv2.LINE_AA)
        return img

    # ------------------------------------------------------------------ per frame
    def paint(self, index: int, face: np.ndarray, hog_row: np.ndarray | None) -> np.ndarray:
        """The overlay frame of session frame ``index``.

        Parameters
        ----------
        index : int
            Frame index in the session (row of frames.parquet).
        face : ndarray of uint8, shape (H, W)
            The gray face crop, already at the face panel's size.
        hog_row : ndarray of float, shape (cells_y * cells_x * orientations,) or None
            The frame's HOG (cells_per_block 1); None leaves the glyph panel black.

        Returns
        -------
        ndarray of uint8, shape (height, width, 3)
            RGB frame.
        """
        img = self._background.copy()
        x, y, w, h = self.layout.face_box
        img[y : y + h, x : x + w] = face[:, :, None]
        if hog_row is not None:
            cy, cx, n_or, cell_px = self._grid
            glyph = hog_glyph(
                hog_row, cells_shape=(cy, cx), orientations=n_or, cell_px=cell_px, vmax=self._vmax
            )
            gx, gy, gw, gh = self.layout.glyph_box
            gh, gw = min(gh, glyph.shape[0]), min(gw, glyph.shape[1])
            img[gy : gy + gh, gx : gx + gw] = glyph[:gh, :gw, None]
        self._draw_label(img, self._labels[index])
        self._draw_time(img, index)
        self._draw_traces(img, index)
        return img

    def _draw_label(self, img: np.ndarray, label: str) -> None:
        x, y, w, h = self.layout.label_box
        colour = self._rgb.get(label, (150, 150, 150))
        cv2.rectangle(img, (x + 6, y + 8), (x + 30, y + h - 9), colour, -1)
        text = label or "-"
        cv2.putText(img, text, (x + 38, y + h - 13), _FONT, 0.75, _WHITE, 2, cv2.LINE_AA)

    def _draw_time(self, img: np.ndarray, index: int) -> None:
        x, y, w, h = self.layout.time_box
        text = f"t {self._t[index]:8.2f} s   frame {index}"
        cv2.putText(img, text, (x + 8, y + h - 14), _FONT, 0.55, _TEXT, 1, cv2.LINE_AA)

    def _x_of(self, t: np.ndarray | float, now: float) -> np.ndarray:
        px, py, pw, ph = self._plot
        return px + (1 - (now - np.asarray(t)) / self._window) * (pw - 1)

    def _draw_traces(self, img: np.ndarray, index: int) -> None:
        px, py, pw, ph = self._plot
        now = self._t[index]
        for onset, offset, name in self._bands:
            if offset < now - self._window or onset > now:
                continue
            x0 = int(round(max(float(self._x_of(onset, now)), px + 1)))
            x1 = int(round(min(float(self._x_of(min(offset, now), now)), px + pw - 2)))
            if x1 >= x0:
                cv2.rectangle(img, (x0, py + 1), (x1, py + ph - 2), _BAND, -1)
                cv2.putText(img, name, (x0 + 2, py + 12), _FONT, 0.35, _TEXT, 1, cv2.LINE_AA)
        lo = int(np.searchsorted(self._t, now - self._window, side="left"))
        xs = np.rint(self._x_of(self._t[lo : index + 1], now)).astype(np.int32)
        for j, e in enumerate(self._names):
            pts = np.stack([xs, self._ys[j, lo : index + 1]], axis=1)
            cv2.polylines(img, [pts], False, self._rgb.get(e, _WHITE), 1, cv2.LINE_AA)
        cv2.line(img, (px + pw - 1, py), (px + pw - 1, py + ph - 1), _WHITE, 1)


def _nice_step(span: float) -> float:
    """A 1/2/5 x 10^k step giving 3-6 ticks over ``span``."""
    raw = span / 4
    mag = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return float(m * mag)
    return float(10 * mag)


def _nice_ticks(lo: float, hi: float) -> list[float]:
    step = _nice_step(hi - lo)
    first = np.ceil(lo / step) * step
    return [float(v) for v in np.arange(first, hi + 1e-12, step)]
