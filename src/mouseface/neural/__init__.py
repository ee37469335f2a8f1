"""Neural recordings and optogenetics on the face's clock (Dolensek et al. 2020, second half).

- :func:`prepare_recording`: one call from a session's ``neural:`` entry to dF/F on the video
  clock (read, dF/F, clock map, overlap check).
- Readers (:mod:`~mouseface.neural.readers`): suite2p folders, NWB files, plain tables ->
  :class:`NeuralRecording`; :func:`recording_dff` makes dF/F from raw F.
- Clocks (:mod:`~mouseface.neural.clocks`): imaging times on the video clock from timestamps,
  a sync-pulse table (linear fit, residual) or rate + offset.
- Alignment (:mod:`~mouseface.neural.align`): face traces on imaging times, no look-ahead.
- Statistics: :func:`neurons_table` (``neurons.parquet``), :func:`analyse_neurons` (PSTHs,
  population decoding, face-neural agreement).
- Optogenetics (:mod:`~mouseface.neural.laser`, :mod:`~mouseface.neural.opto`): laser-epoch
  tables and the evoked expression (``opto.parquet``).
"""

from __future__ import annotations

from mouseface.neural.align import align_face, face_columns, resample_causal, trial_samples
from mouseface.neural.clocks import (
    ClockFit,
    check_overlap,
    check_pulses,
    fit_clock,
    read_sync_table,
    to_video_clock,
)
from mouseface.neural.correlation import (
    ShuffleCorrelation,
    bh_q,
    decorrelation_lag,
    shuffle_correlation,
)
from mouseface.neural.decoding import Agreement, NeuralDecoding, agreement, decode_emotion
from mouseface.neural.dff import dff, recording_dff, running_percentile
from mouseface.neural.indicator import GCAMP6S_DECAY, calcium_regressor
from mouseface.neural.neurons import (
    NEURON_COLUMNS,
    NeuronAnalysis,
    analyse_neurons,
    example_neurons,
    heatmap_order,
    neurons_table,
)
from mouseface.neural.prepare import PreparedRecording, prepare_recording
from mouseface.neural.readers import READERS, read_neural, read_nwb, read_suite2p, read_table
from mouseface.neural.recording import NeuralRecording
from mouseface.neural.responses import Psth, psth, selectivity, trial_responses

__all__ = [
    "NEURON_COLUMNS",
    "READERS",
    "GCAMP6S_DECAY",
    "Agreement",
    "ClockFit",
    "NeuralDecoding",
    "NeuralRecording",
    "NeuronAnalysis",
    "PreparedRecording",
    "Psth",
    "ShuffleCorrelation",
    "agreement",
    "align_face",
    "analyse_neurons",
    "bh_q",
    "calcium_regressor",
    "check_overlap",
    "check_pulses",
    "decode_emotion",
    "decorrelation_lag",
    "dff",
    "example_neurons",
    "face_columns",
    "fit_clock",
    "heatmap_order",
    "neurons_table",
    "prepare_recording",
    "psth",
    "read_neural",
    "read_nwb",
    "read_suite2p",
    "read_sync_table",
    "read_table",
    "recording_dff",
    "resample_causal",
    "running_percentile",
    "selectivity",
    "shuffle_correlation",
    "to_video_clock",
    "trial_responses",
    "trial_samples",
]
