"""A session given as an NWB file: resolve its video, frame times, events and imaging once.

A session in ``mouseface.yaml`` may name an NWB file (``nwb:``) instead of, or beside, ``video``
and ``events``. :func:`resolve_nwb` reads the file once, in validation
(:func:`mouseface.io.nwb_input.read_nwb_session`), and returns

- the session's config with ``video`` set to the ImageSeries' external file and ``neural`` set
  to the NWB's ROI traces (``{path: <nwb>, format: nwb}``) where the config does not give them,
  so that every later step reads the session as it reads any other;
- an :class:`NWBInputs`: the NWB's events (when the config gives no ``events``), where its frame
  times come from, and the NWB time of the first video frame, the origin of the video clock.

One clock: NWB times are seconds from ``session_start_time`` for every series in the file. The
video clock of mouseface starts at the first video frame, so events, frame times and imaging
times are all NWB time minus :attr:`NWBInputs.first_frame_time`.

Frame times: when the video comes from the NWB, the per-frame times (``features.zarr`` ``time``,
``frames.parquet`` ``time``) are the ImageSeries' timestamps relative to the first frame (or
``i / rate`` when it stores a rate), not the container's: :func:`write_nwb_frame_times` checks
that the NWB lists as many frames as the video decodes and writes them into the feature store.
An explicit ``video`` keeps its own container timestamps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr

from mouseface.errors import InputError
from mouseface.io.config import NeuralConfig, SessionConfig
from mouseface.io.feature_store import read_series
from mouseface.io.nwb_input import NWBSession, read_nwb_session
from mouseface.io.outputs import sha256_file

__all__ = ["NWBInputs", "resolve_nwb", "nwb_frame_times", "write_nwb_frame_times"]


@dataclass(frozen=True)
class NWBInputs:
    """What one session takes from its NWB file.

    Attributes
    ----------
    session : NWBSession
        What :func:`~mouseface.io.nwb_input.read_nwb_session` read (the file, its video series,
        frame times, events, ophys and opto paths).
    sha256 : str
        Hash of the NWB file (provenance).
    video : bool
        The session's video is the NWB's ImageSeries (no ``video`` in the config); its frame
        times then replace the container's (:func:`nwb_frame_times`).
    events : bool
        The session's events are the NWB's table (no ``events`` in the config).
    neural_origin : float or None
        NWB time (s) subtracted from the session's neural timestamps to put them on the video
        clock: the first video frame's NWB time, when the session's neural recording is this
        NWB file with no clock of its own in the config (no ``sync``, ``rate`` or ``offset``);
        None otherwise.
    """

    session: NWBSession
    sha256: str
    video: bool
    events: bool
    neural_origin: float | None

    @property
    def path(self) -> Path:
        """The NWB file."""
        return self.session.path

    @property
    def first_frame_time(self) -> float:
        """NWB time (s) of the first video frame: the origin of the session's video clock."""
        return self.session.first_frame_time

    @property
    def frame_times_key(self) -> str | None:
        """Hash of the NWB frame timing the feature store depends on (None: container times)."""
        if not self.video:
            return None
        s = self.session
        if s.frame_times is not None:
            return hashlib.sha256(np.ascontiguousarray(s.frame_times).tobytes()).hexdigest()
        return f"rate={s.rate!r}"

    def provenance(self) -> dict:
        """JSON-able record of the file and the series used."""
        s = self.session
        return {
            "file": str(s.path),
            "sha256": self.sha256,
            "video_series": s.video_series if self.video else None,
            "video": str(s.video) if self.video and s.video is not None else None,
            "frame_times": (
                None
                if not self.video
                else "timestamps"
                if s.frame_times is not None and s.rate is None
                else "rate"
            ),
            "first_frame_time_s": s.first_frame_time,
            "events_table": s.events_table if self.events else None,
            "roi_traces": list(s.roi_traces) if self.neural_origin is not None else [],
            "ophys_series": list(s.ophys_series),
            "opto_series": list(s.opto_series),
        }


def resolve_nwb(sc: SessionConfig) -> tuple[SessionConfig, NWBInputs | None]:
    """Read a session's NWB file and fill in what the config leaves to it.

    Parameters
    ----------
    sc : SessionConfig
        The session's entry of the config (paths resolved).

    Returns
    -------
    SessionConfig
        ``sc`` with ``video`` (the ImageSeries' external file) and ``neural`` (the NWB's ROI
        traces, ``format: nwb``) filled in where it gave none; ``sc`` itself without ``nwb``.
    NWBInputs or None
        None when the session has no ``nwb``.

    Raises
    ------
    InputError
        The NWB file lacks a series the session needs: no ImageSeries with an external video
        file when the config gives no ``video``, no events table when it gives neither
        ``events`` nor ``opto`` (the message names the file, the series and the fix).
    """
    if sc.nwb is None:
        return sc, None
    want_video = sc.video is None
    s = read_nwb_session(
        sc.nwb,
        video_series=sc.nwb_video,
        events_table=sc.nwb_events,
        trial_type_column=sc.nwb_trial_type,
        require_video=want_video,
        require_events=sc.events is None and sc.opto is None,
        check_video_exists=want_video,
    )
    update: dict = {}
    if want_video:
        update["video"] = s.video
    neural = sc.neural
    if neural is None and s.has_roi_traces:
        neural = NeuralConfig(path=s.path, format="nwb")
        update["neural"] = neural
    own_clock = neural is not None and (
        neural.sync is not None or neural.rate is not None or neural.offset is not None
    )
    same_file = neural is not None and _same_file(neural.path, s.path)
    nwb = NWBInputs(
        session=s,
        sha256=sha256_file(s.path),
        video=want_video,
        events=sc.events is None and s.events is not None,
        neural_origin=s.first_frame_time if same_file and not own_clock else None,
    )
    return sc.model_copy(update=update), nwb


def _same_file(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def nwb_frame_times(
    nwb: NWBInputs, *, n_decoded: int, decode_error: dict | None, video: Path
) -> np.ndarray:
    """The session's frame times from its NWB ImageSeries, checked against the decoded video.

    Parameters
    ----------
    nwb : NWBInputs
        With ``video`` True (the video came from the NWB).
    n_decoded : int
        Frames decoded from the video.
    decode_error : dict or None
        Where decoding stopped early: then the NWB may list more frames than were decoded and
        the first ``n_decoded`` times are used.
    video : Path
        The video file (for the message).

    Returns
    -------
    ndarray of float64, shape (n_decoded,)
        Seconds from the first frame: the ImageSeries' timestamps minus the first, or
        ``arange(n) / rate``.

    Raises
    ------
    InputError
        The ImageSeries lists a different number of frames than the video decodes to.
    """
    s = nwb.session
    if s.frame_times is None:  # starting_time + rate, no frame count stored
        return np.arange(n_decoded, dtype=np.float64) / float(s.rate)
    n_nwb = len(s.frame_times)
    if n_nwb == n_decoded or (decode_error is not None and n_decoded < n_nwb):
        return np.asarray(s.frame_times[:n_decoded], dtype=np.float64)
    what = "timestamps" if s.rate is None else "frames (starting_time + rate)"
    raise InputError(
        f"{s.path}: ImageSeries '{s.video_series}' lists {n_nwb} {what} but its video {video} "
        f"decodes to {n_decoded} frames; the NWB frame times must give one time per video "
        "frame: fix the ImageSeries timestamps (or the video), or give 'video' beside 'nwb' in "
        "mouseface.yaml to use the video's own frame times"
    )


def write_nwb_frame_times(store: Path, nwb: NWBInputs, *, video: Path) -> np.ndarray:
    """Replace a feature store's ``time`` with the NWB frame times (:func:`nwb_frame_times`).

    Parameters
    ----------
    store : Path
        A ``features.zarr`` just written by :func:`mouseface.features.extract.extract_features`
        (not yet renamed into place).
    nwb : NWBInputs
        With ``video`` True.
    video : Path
        The video file (for messages).

    Returns
    -------
    ndarray of float64, shape (n_frames,)
        The times written.
    """
    series = read_series(store)
    times = nwb_frame_times(
        nwb, n_decoded=len(series.times), decode_error=series.decode_error, video=video
    )
    g = zarr.open_group(str(store), mode="r+")
    g["time"][:] = times
    g.attrs["time_source"] = (
        f"NWB {nwb.path.name}: ImageSeries '{nwb.session.video_series}' "
        f"({'timestamps' if nwb.session.rate is None else 'rate'}), seconds from its first frame"
    )
    zarr.consolidate_metadata(str(store))
    return times
