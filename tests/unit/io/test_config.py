from __future__ import annotations

from pathlib import Path

import pytest

from mouseface.errors import InputError
from mouseface.io.config import config_from_dict, load_config, trial_emotion

MINIMAL = """\
sessions:
  - {id: t00, animal: m1, video: videos/t00.mp4, events: events/t00.tsv, roi: [0, 15, 120, 100]}
emotions: {shock: pain}          # trial_type -> emotion
windows: {baseline: [-2, 0], response: [0, 2]}
"""


def _cfg(tmp_path, text):
    p = tmp_path / "mouseface.yaml"
    p.write_text(text)
    return p


def test_minimal_config_from_the_issue(tmp_path):
    cfg = load_config(_cfg(tmp_path, MINIMAL))
    s = cfg.sessions[0]
    assert s.video == tmp_path.resolve() / "videos" / "t00.mp4"
    assert s.events == tmp_path.resolve() / "events" / "t00.tsv"
    assert s.roi == (0, 15, 120, 100)
    assert cfg.emotions == {"shock": "pain"}
    assert cfg.windows.baseline == (-2.0, 0.0) and cfg.windows.response == (0.0, 2.0)
    # defaults chosen in docs/validation.md: 16-px HOG cells on a 320-px face, plus cell flow
    assert cfg.hog.orientations == 8 and cfg.hog.pixels_per_cell == (16, 16)
    assert cfg.features == ("hog", "flow") and cfg.hog.face_width == 320


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ("emotoins: {a: b}\n", "unknown key 'emotoins' \\(did you mean 'emotions'\\?\\)"),
        ("windows: {baseline: [0, -2]}\n", "start must be before its end"),
        ("hog: {orientation: 9}\n", "unknown key 'hog.orientation' \\(did you mean 'orientations'"),
        ("emotions: {shock: neutral}\n", "'neutral' is the baseline class"),
    ],
)
def test_bad_configs_are_input_errors_with_hints(tmp_path, extra, match):
    text = MINIMAL.split("emotions")[0] + extra
    with pytest.raises(InputError, match=match):
        load_config(_cfg(tmp_path, text))


def test_session_key_typo_and_duplicate_ids(tmp_path):
    with pytest.raises(InputError, match=r"sessions\.0\.vidoe.*did you mean 'video'"):
        load_config(_cfg(tmp_path, "sessions:\n  - {id: a, animal: m, vidoe: x.mp4}\n"))
    with pytest.raises(InputError, match="appears twice"):
        load_config(
            _cfg(
                tmp_path,
                "sessions:\n  - {id: a, animal: m, video: x}\n  - {id: a, animal: m, video: y}\n",
            )
        )


def test_yaml_syntax_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="not valid YAML"):
        load_config(_cfg(tmp_path, "sessions: [\n"))
    with pytest.raises(InputError, match="config file not found"):
        load_config(tmp_path / "none.yaml")


def test_trial_emotion_strict_and_lenient():
    assert trial_emotion("shock", {"shock": "pain"}, source="e", strict=True) == "pain"
    assert trial_emotion("sucrose", {}, source="e", strict=False) == "sucrose"
    with pytest.raises(InputError, match="trial_type 'sucrose' has no emotion"):
        trial_emotion("sucrose", {"shock": "pain"}, source="e.tsv", strict=True)


def test_feature_sets_and_the_paper_preset(tmp_path: Path):
    base = {"sessions": [{"id": "a", "animal": "m", "video": "v.mp4"}]}
    cfg = config_from_dict(base, base=tmp_path)
    assert cfg.features == ("hog", "flow") and cfg.hog.preset is None
    cfg = config_from_dict(
        {**base, "features": ["hog", "flow"], "hog": {"preset": "paper"}, "flow": {"cell": 8}},
        base=tmp_path,
    )
    assert cfg.features == ("hog", "flow") and cfg.flow.cell == 8
    assert cfg.hog.pixels_per_cell == (32, 32) and cfg.hog.face_width is None
    assert "preset" not in cfg.hog.kernel_params() and "face_width" not in cfg.hog.kernel_params()
    # a key beside the preset overrides it
    cfg = config_from_dict({**base, "hog": {"preset": "paper", "face_width": 640}}, base=tmp_path)
    assert cfg.hog.face_width == 640 and cfg.hog.pixels_per_cell == (32, 32)
    with pytest.raises(InputError, match="features"):
        config_from_dict({**base, "features": ["hog", "sift"]}, base=tmp_path)
    with pytest.raises(InputError, match="twice"):
        config_from_dict({**base, "features": ["hog", "hog"]}, base=tmp_path)
    with pytest.raises(InputError, match=r"flow alone.*features: \[hog, flow\]"):
        config_from_dict({**base, "features": ["flow"]}, base=tmp_path)


def test_nwb_session_needs_no_video(tmp_path):
    text = "sessions:\n  - {id: r1, animal: m1, nwb: nwb/r1.nwb, nwb_video: cam}\n"
    s = load_config(_cfg(tmp_path, text)).sessions[0]
    assert s.nwb == tmp_path.resolve() / "nwb" / "r1.nwb"
    assert s.video is None and s.events is None
    assert s.nwb_video == "cam" and s.nwb_events is None and s.nwb_trial_type == "trial_type"


@pytest.mark.parametrize(
    ("session", "match"),
    [
        ("{id: r1, animal: m1}", "session r1 has neither 'video' nor 'nwb'; give 'video: <file>'"),
        (
            "{id: r1, animal: m1, video: v.mp4, nwb_events: stim}",
            "session r1 gives nwb_events but no 'nwb' file",
        ),
        ("{id: r1, animal: m1, nwb: r1.nwb, nwb_vidoe: cam}", "did you mean 'nwb_video'"),
    ],
)
def test_bad_nwb_sessions(tmp_path, session, match):
    with pytest.raises(InputError, match=match):
        load_config(_cfg(tmp_path, f"sessions:\n  - {session}\n"))


def test_pose_path_or_mapping_and_keypoint_params(tmp_path):
    text = (
        "sessions:\n"
        "  - {id: a, animal: m, video: v/a.mp4, events: e.tsv, pose: pose/a.h5}\n"
        "  - id: b\n    animal: m\n    video: v/b.mp4\n    events: e.tsv\n"
        "    pose: {path: pose/b.csv, software: sleap, individual: m2,\n"
        "           confidence_threshold: 0.8, aliases: {EarTip: ear_tip}}\n"
        "features: [hog, keypoints]\n"
        "keypoints: {groups: [ear, eye], weight: 0.3}\n"
    )
    cfg = load_config(_cfg(tmp_path, text))
    a, b = cfg.sessions
    assert a.pose.path == tmp_path.resolve() / "pose" / "a.h5"
    assert a.pose.confidence_threshold == 0.6 and a.pose.software is None
    assert b.pose.path == tmp_path.resolve() / "pose" / "b.csv"
    assert (b.pose.software, b.pose.individual) == ("sleap", "m2")
    assert b.pose.aliases == {"EarTip": "ear_tip"} and b.pose.confidence_threshold == 0.8
    assert cfg.features == ("hog", "keypoints")
    assert cfg.keypoints.groups == ("ear", "eye") and cfg.keypoints.weight == 0.3


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ("features: [hog, keypoints]\n", r"session\(s\) b have no pose file; add 'pose: "),
        ("features: [keypoints]\nkeypoints: {groups: [tail]}\n", r"keypoints\.groups\.0"),
        ("features: [keypoints]\nkeypoints: {weight: 0}\n", r"keypoints\.weight"),
        ("features: [keypoints]\nkeypoints: {groups: [ear, ear]}\n", "lists a group twice"),
    ],
)
def test_keypoint_config_errors_name_the_fix(tmp_path, extra, match):
    text = (
        "sessions:\n"
        "  - {id: a, animal: m, video: a.mp4, events: e.tsv, pose: a.h5}\n"
        "  - {id: b, animal: m, video: b.mp4, events: e.tsv}\n" + extra
    )
    with pytest.raises(InputError, match=match):
        load_config(_cfg(tmp_path, text))
    # the same sessions without keypoints need no pose file
    load_config(_cfg(tmp_path, text.split("features")[0]))
