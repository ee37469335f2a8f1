"""Write small NWB session files for the NWB-input tests (video as an external file, events,
ROI traces), all on one NWB clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pynwb


def write_session_nwb(
    path: Path,
    *,
    video: Path | None = None,
    timestamps: np.ndarray | None = None,
    rate: float | None = None,
    starting_time: float = 0.0,
    n_frames: int | None = None,
    events: pd.DataFrame | None = None,
    events_as: str = "trials",
    time_offset: float = 0.0,
    roi_traces: tuple[np.ndarray, np.ndarray] | None = None,
) -> Path:
    """Write ``path``: an NWB file with the pieces asked for.

    Parameters
    ----------
    path : Path
        The .nwb file to write.
    video : Path, optional
        Video for an ImageSeries ``face_video`` in acquisition; stored as a path relative to
        the NWB file's folder. None: no ImageSeries.
    timestamps : ndarray, optional
        Frame times on the NWB clock (s); else ``starting_time``, ``rate`` and ``n_frames``
        (``num_samples``, needed by pynwb >= 4 for an external file timed by a rate).
    events : DataFrame, optional
        BIDS-style events (onset on the video clock, duration, trial_type, intensity, trial),
        written at ``onset + time_offset`` NWB seconds as the trials table (``events_as=
        "trials"``) or a core EventsTable ``events/stimuli`` (``"events_table"``).
    time_offset : float
        NWB time of the first video frame (added to event onsets).
    roi_traces : (times, data), optional
        ``times`` (n,) NWB seconds and ``data`` (n, n_rois) dF/F, written as
        ``processing/ophys/DfOverF/dff``.
    """
    nwbfile = pynwb.NWBFile(
        session_description="mouseface NWB-input test",
        identifier=path.stem,
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    if video is not None:
        from pynwb.image import ImageSeries

        rel = os.path.relpath(video, path.parent)
        kw = (
            {"timestamps": np.asarray(timestamps, dtype=np.float64)}
            if timestamps is not None
            else {
                "rate": float(rate),
                "starting_time": float(starting_time),
                "num_samples": int(n_frames),
            }
        )
        nwbfile.add_acquisition(
            ImageSeries(
                name="face_video",
                description="side view of the face",
                external_file=[rel],
                starting_frame=[0],
                format="external",
                unit="n.a.",
                **kw,
            )
        )
    if events is not None:
        onset = events["onset"].to_numpy(float) + time_offset
        if events_as == "trials":
            nwbfile.add_trial_column("trial_type", "stimulus")
            nwbfile.add_trial_column("intensity", "stimulus intensity")
            for t, d, name, x in zip(
                onset, events["duration"], events["trial_type"], events["intensity"], strict=True
            ):
                nwbfile.add_trial(
                    start_time=float(t), stop_time=float(t + d), trial_type=name, intensity=x
                )
        else:
            from pynwb.event import EventsTable

            table = EventsTable(name="stimuli", description="stimulus onsets")
            table.add_column("trial_type", "stimulus")
            table.add_column("intensity", "stimulus intensity")
            table.add_column("trial", "trial id")
            for t, d, name, x, k in zip(
                onset,
                events["duration"],
                events["trial_type"],
                events["intensity"],
                events["trial"],
                strict=True,
            ):
                table.add_row(
                    timestamp=float(t), duration=float(d), trial_type=name, intensity=x, trial=k
                )
            nwbfile.add_events_table(table)
    if roi_traces is not None:
        _add_roi_traces(nwbfile, *roi_traces)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def _add_roi_traces(nwbfile: pynwb.NWBFile, times: np.ndarray, data: np.ndarray) -> None:
    from pynwb.ophys import DfOverF, ImageSegmentation, OpticalChannel

    device = nwbfile.create_device(name="scope", description="two-photon microscope")
    plane = nwbfile.create_imaging_plane(
        name="plane0",
        optical_channel=OpticalChannel(name="green", description="GCaMP", emission_lambda=520.0),
        description="insular cortex",
        device=device,
        excitation_lambda=920.0,
        indicator="GCaMP6s",
        location="insular cortex",
    )
    module = nwbfile.create_processing_module(name="ophys", description="ROI traces")
    seg = ImageSegmentation()
    module.add(seg)
    cells = seg.create_plane_segmentation(name="cells", description="ROIs", imaging_plane=plane)
    for k in range(data.shape[1]):
        mask = np.zeros((8, 8), dtype=np.float32)
        mask[k % 8, k // 8] = 1.0
        cells.add_roi(image_mask=mask)
    region = cells.create_roi_table_region(
        region=list(range(data.shape[1])), description="all ROIs"
    )
    dff = DfOverF(name="DfOverF")
    module.add(dff)
    dff.create_roi_response_series(
        name="dff",
        data=np.asarray(data, dtype=np.float32),
        rois=region,
        unit="n.a.",
        timestamps=np.asarray(times, dtype=np.float64),
    )
