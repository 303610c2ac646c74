"""Video sources: real file frames and video-time stamps, loop, missing file, dying streams."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import timedelta

import cv2
import numpy as np
import pytest
from edge_builders import T0

from edge.sources import Backoff, SourceError, SourceNotFoundError, VideoSource


class RecordingSleep:
    """Stands in for time.sleep: records the waits, optionally runs an action at the n-th wait."""

    def __init__(self, action_at: int | None = None, action=None) -> None:
        self.waits: list[float] = []
        self.action_at, self.action = action_at, action

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.action is not None and len(self.waits) == self.action_at:
            self.action()


@pytest.fixture
def truncated(tmp_path, pets_video):
    """A copy of PETS whose data stops after ~60 frames while its header still promises 795."""
    path = tmp_path / "dying.mp4"
    shutil.copyfile(pets_video, path)
    os.truncate(path, 300_000)
    return path


def test_file_frames_carry_video_time_and_consecutive_indices(pets_video):
    with VideoSource(pets_video, origin=T0) as src:
        frames = list(src.frames(max_frames=25))
        assert (src.fps, src.frame_count, src.frame_size) == (10.0, 795, (480, 360))
    assert [f.index for f in frames] == list(range(25))
    assert [f.captured_at for f in frames] == [T0 + timedelta(seconds=k / 10) for k in range(25)]
    assert all(f.image.shape == (360, 480, 3) and f.image.dtype == np.uint8 for f in frames)
    assert frames[0].captured_at.tzinfo is not None
    image, captured_at, index = frames[3]  # unpacks as (frame, captured_at, index)
    assert index == 3


def test_fps_limit_keeps_every_kth_frame_of_a_file(pets_video):
    frames = list(VideoSource(pets_video, fps_limit=5, origin=T0).frames(max_frames=4))
    assert [f.index for f in frames] == [0, 2, 4, 6]
    assert frames[1].captured_at - frames[0].captured_at == timedelta(seconds=0.2)


def test_a_looping_file_restarts_and_time_keeps_increasing(tmp_path, pets_video):
    clip = tmp_path / "clip.mp4"
    first = _write_clip(pets_video, clip, frames=12)
    frames = list(VideoSource(clip, loop=True, origin=T0).frames(max_frames=30))
    assert [f.index for f in frames] == list(range(30))
    assert all(b.captured_at > a.captured_at for a, b in zip(frames, frames[1:]))
    assert np.array_equal(frames[12].image, frames[0].image) and np.array_equal(frames[24].image, first)


def test_without_loop_a_file_ends(tmp_path, pets_video):
    clip = tmp_path / "clip.mp4"
    _write_clip(pets_video, clip, frames=12)
    assert len(list(VideoSource(clip).frames())) == 12


def test_a_missing_file_is_named(tmp_path):
    missing = tmp_path / "cams" / "door.mp4"
    with pytest.raises(SourceNotFoundError, match=f"camera 'door': video file {missing} does not exist"):
        VideoSource(missing, name="door")


def test_a_file_that_is_not_a_video_is_named(tmp_path):
    junk = tmp_path / "notes.mp4"
    junk.write_text("not a video")
    with pytest.raises(SourceError, match=f"OpenCV cannot open video file {junk}"):
        list(VideoSource(junk).frames())


def test_a_dying_file_is_retried_with_backoff_then_given_up_with_a_clear_error(truncated, caplog):
    sleep = RecordingSleep()
    src = VideoSource(truncated, name="aisle", backoff=Backoff(0.5, 1.5, 4), sleep=sleep)
    got = []
    with caplog.at_level(logging.WARNING, logger="edge.sources.video"), pytest.raises(SourceError) as info:
        for frame in src.frames():
            got.append(frame.index)
    assert 20 < len(got) < 795 and got == list(range(len(got)))
    assert sleep.waits == [0.5, 1.0, 1.5, 1.5]  # doubling, capped at max_delay_s
    assert "gave up on" in str(info.value) and str(truncated) in str(info.value) and "after 4 reconnect attempts" in str(info.value)
    attempts = [r.getMessage() for r in caplog.records if "reconnecting in" in r.getMessage()]
    assert len(attempts) == 4 and f"read failed at frame {len(got)}" in attempts[0] and "(attempt 1/4)" in attempts[0]


def test_a_stream_that_comes_back_resumes_where_it_stopped(truncated, pets_video, caplog):
    sleep = RecordingSleep(action_at=2, action=lambda: shutil.copyfile(pets_video, truncated))  # "camera back" at 2nd wait
    src = VideoSource(truncated, name="aisle", backoff=Backoff(0.01, 1.0, 5), sleep=sleep, origin=T0)
    with caplog.at_level(logging.WARNING, logger="edge.sources.video"):
        frames = list(src.frames(max_frames=200))
    assert [f.index for f in frames] == list(range(200))  # nothing skipped or repeated
    assert sleep.waits == [0.01, 0.02] and src.reconnects == 1
    assert any("reconnected after 2 attempt(s)" in r.getMessage() for r in caplog.records)
    reference = list(VideoSource(pets_video).frames(max_frames=200))[-1].image
    assert np.abs(frames[-1].image.astype(int) - reference.astype(int)).mean() < 2.0  # same picture after the gap


def test_an_unreachable_rtsp_camera_is_retried_then_given_up():
    sleep = RecordingSleep()
    src = VideoSource("rtsp://127.0.0.1:9/nothing", name="door", backoff=Backoff(0.25, 10, 3), sleep=sleep)
    with pytest.raises(SourceError, match=r"camera 'door': gave up on rtsp://127.0.0.1:9/nothing after 3 reconnect attempts"):
        list(src.frames())
    assert sleep.waits == [0.25, 0.5, 1.0]


def test_stop_during_backoff_ends_quietly(truncated):
    import threading

    stop = threading.Event()
    src = VideoSource(truncated, backoff=Backoff(0.01, 1.0, 5), sleep=lambda s: stop.set())
    frames = list(src.frames(stop))
    assert len(frames) > 20  # the frames before the failure, then a clean stop instead of an error


def _write_clip(src_path, out_path, frames: int) -> np.ndarray:
    """Re-encode the first ``frames`` real frames; returns the first frame as read back."""
    cap = cv2.VideoCapture(str(src_path))
    writer = cv2.VideoWriter(str(out_path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (480, 360))
    for _ in range(frames):
        ok, image = cap.read()
        writer.write(image)
    writer.release()
    cap.release()
    ok, first = cv2.VideoCapture(str(out_path)).read()
    return first
