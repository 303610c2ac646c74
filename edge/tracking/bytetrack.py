"""ByteTrack (Zhang et al., ECCV 2022) over :class:`~edge.detections.Detections`, in numpy + lap.

No torch and no ultralytics: this is what the slim edge image runs. One frame of :meth:`ByteTracker.update`:

1. Predict every confirmed and lost track one frame ahead (constant-velocity Kalman filter in
   xyah space, :mod:`edge.tracking.kalman`).
2. Match high-score detections (score >= ``track_high_thresh``) to those tracks by IoU, weighted
   by the detection score when ``fuse_score`` is on; a lost track matched here is re-found. Two
   optional terms re-rank boxes that overlap a track: clothing colour (``appearance_weight``,
   :mod:`edge.tracking.appearance`) and walking direction (``direction_weight``,
   :mod:`edge.tracking.direction`). Both are off by default.
3. Match low-score detections (``track_low_thresh`` < score < high) to the still unmatched
   *tracked* tracks by IoU alone (IoU >= 0.5): this is ByteTrack's point, occluded people keep
   their track through the frames where the detector is unsure. Tracks still unmatched are lost.
4. Match unconfirmed tracks (started last frame) to the high-score detections left over; an
   unconfirmed track that finds none is dropped, so a one-frame false positive never gets an id
   out of the tracker.
5. Start a track for each high-score detection left whose score is >= ``new_track_thresh``. With
   ``relink_max_distance`` set, such a box first tries to continue a lost track instead: one whose
   last box lay within about a box height of it and whose clothing colour is close and clearly the
   closest (:meth:`ByteTracker._relink`). That joins the pieces of a person the detector missed for
   a while, when the Kalman prediction has drifted too far for IoU to match. A track lost at the
   picture's edge is never continued: that person walked out, and whoever walks in there next is
   someone else. Off by default.
6. Expire lost tracks not seen for more than ``config.lost_frames`` frames (see :func:`_keep_lost`
   for the grace frame), and of two tracks (one tracked, one lost) over the same box, drop the younger.

The behaviour follows the authors' reference code (and ultralytics' port of it) step for step, so
track ids agree with those implementations on the same detections (see
tests/edge/test_tracking_reference.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from edge.detections import Detections
from edge.geometry import Anchor, anchor_points
from edge.tracking import kalman
from edge.tracking.appearance import appearance_distance, box_appearances
from edge.tracking.config import TrackerConfig
from edge.tracking.direction import consistency, walking_direction
from edge.tracking.matching import assign, fused_cost
from services.shared.boxes import box_iou

# Fixed by ByteTrack (not tuned per site), so constants rather than config fields.
_LOW_SCORE_MAX_COST = 0.5  # step 3: 1 - IoU; low-score boxes are not score-weighted, that would reject them all
_UNCONFIRMED_MAX_COST = 0.7  # step 4: cost (1 - IoU, score-weighted like step 2) to confirm a new track
_DUPLICATE_MAX_COST = 0.15  # step 6: 1 - IoU under which a tracked and a lost track are the same person
_DIRECTION_MIN_STEP = 0.05  # a track moved less than this x its box height over its direction span: no direction
_RELINK_REACH = 1.0  # step 5: a lost track's last box centre within this many box heights of a new box ...
_RELINK_GROWTH = 0.05  # ... plus this share per frame lost (people keep walking while unseen)
_RELINK_MARGIN = 0.05  # the closest lost track's colour must beat the next one by this much, else no re-link
_RELINK_EDGE = 0.02  # a track whose last box came this close to the picture's edge (share of its side) walked out


class TrackState(IntEnum):
    """Where a track is in its life."""

    TRACKED = 1  # matched a detection this frame
    LOST = 2  # unmatched, kept (predicted) for re-identification
    REMOVED = 3  # gone for good


@dataclass(slots=True, eq=False)
class Track:
    """One person's track. Mutable: the tracker corrects it in place each frame.

    Attributes:
        track_id: unique per tracker, from 1 in order of creation.
        mean: (8,) Kalman state ``(x, y, a, h, vx, vy, va, vh)``, pixels and pixels per frame.
        covariance: (8, 8) Kalman covariance.
        start_frame: frame number (from 1) the track was created in.
        last_frame: last frame number in which it matched a detection.
        det_index: row of that frame's Detections it matched.
        confirmed: matched in two consecutive frames (or created in the tracker's first frame).
        state: :class:`TrackState`.
        expired: was once lost for longer than the buffer (see :func:`_keep_lost`).
        appearance: running colour appearance, when the tracker uses one.
        seen: ``(frame, box centre)`` of its last few matches, oldest first, for its walking direction.
        last_xyah: (4,) the box it last matched (centre x, y, aspect, height), for re-linking.
    """

    track_id: int
    mean: npt.NDArray[np.float64]
    covariance: npt.NDArray[np.float64]
    start_frame: int
    last_frame: int
    det_index: int
    confirmed: bool
    state: TrackState = TrackState.TRACKED
    expired: bool = False
    appearance: npt.NDArray[np.float32] | None = None  # colour histogram (appearance_weight > 0 only)
    seen: list[tuple[int, npt.NDArray[np.float64]]] = field(default_factory=list)
    last_xyah: npt.NDArray[np.float64] | None = None

    @property
    def xyxy(self) -> npt.NDArray[np.float64]:
        """(4,) predicted / corrected box in pixels."""
        return kalman.xyah_to_xyxy(self.mean[None])[0]

    @property
    def age(self) -> int:
        """Frames between creation and the last match."""
        return self.last_frame - self.start_frame


def _boxes(tracks: list[Track]) -> npt.NDArray[np.float64]:
    """(n, 4) current boxes of ``tracks``."""
    if not tracks:
        return np.zeros((0, 4))
    return kalman.xyah_to_xyxy(np.stack([t.mean for t in tracks]))


def _predict(tracks: list[Track]) -> None:
    """Advance ``tracks`` one frame in place (one batched Kalman step)."""
    if not tracks:
        return
    mean = np.stack([t.mean for t in tracks])
    # A lost track keeps drifting with its last speed but stops growing or shrinking: an unseen
    # box's height velocity is pure noise and would otherwise run away over the lost frames.
    mean[[t.state != TrackState.TRACKED for t in tracks], 7] = 0.0
    mean, covariance = kalman.predict(mean, np.stack([t.covariance for t in tracks]))
    for track, m, c in zip(tracks, mean, covariance):
        track.mean, track.covariance = m, c


def _split_by_score(detections: Detections, config: TrackerConfig) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Row indices of the high-score and of the low-score detections; boxes without area are neither."""
    wh = detections.xyxy[:, 2:] - detections.xyxy[:, :2]
    valid = (wh > 0).all(axis=1)  # height 0 would make the aspect ratio infinite
    score = detections.score
    high = valid & (score >= config.track_high_thresh)
    low = valid & (score > config.track_low_thresh) & (score < config.track_high_thresh)
    return np.flatnonzero(high), np.flatnonzero(low)


def _keep_lost(old_lost: list[Track], newly_lost: list[Track], frame: int, lost_frames: int) -> list[Track]:
    """The lost tracks to keep for re-identification after ``frame``.

    A lost track expires when more than ``lost_frames`` frames have passed since its last match.
    As in the authors' reference code (which marks it removed but takes it off the lost list only
    one frame later), an expired track stays matchable for one grace frame; one re-found then has
    used up its grace and is forgotten as soon as it is lost again. We keep this so that ids agree
    with the reference implementations.
    """
    kept = []
    for track in old_lost:
        if track.state != TrackState.LOST or track.expired:
            continue  # re-found this frame, or its grace frame is over
        track.expired = frame - track.last_frame > lost_frames
        kept.append(track)
    return kept + [t for t in newly_lost if not t.expired]


def _drop_duplicates(tracked: list[Track], lost: list[Track]) -> tuple[list[Track], list[Track]]:
    """Of each (tracked, lost) pair over the same box (IoU > 0.85), drop the one with the shorter history.

    Ties drop the tracked one, as the reference does.
    """
    if not tracked or not lost:
        return tracked, lost
    cost = 1.0 - box_iou(_boxes(tracked), _boxes(lost))
    drop_tracked: set[int] = set()
    drop_lost: set[int] = set()
    for p, q in zip(*np.nonzero(cost < _DUPLICATE_MAX_COST)):
        if tracked[p].age > lost[q].age:
            drop_lost.add(int(q))
        else:
            drop_tracked.add(int(p))
    return ([t for i, t in enumerate(tracked) if i not in drop_tracked],
            [t for i, t in enumerate(lost) if i not in drop_lost])


class ByteTracker:
    """Detections in, the same detections with ``tracker_id`` out (only those in a live, confirmed track).

    Boxes, scores and classes are the detector's (not the Kalman-smoothed ones), so what analyzers
    see is what the detector saw. Association ignores the class. Track ids start at 1 and are
    unique per tracker.

    >>> t = ByteTracker()
    >>> d = Detections(np.array([[10, 10, 50, 110]], np.float32), np.array([0.9], np.float32), np.array([0]))
    >>> [t.update(d).tracker_id.tolist() for _ in range(3)]
    [[1], [1], [1]]
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.reset()

    def reset(self) -> None:
        """Forget all tracks (e.g. after a camera reconnect); ids restart at 1."""
        self._frame = 0
        self._next_id = 1
        self._tracked: list[Track] = []  # state TRACKED, confirmed or not, in a stable order
        self._lost: list[Track] = []
        self._looks: npt.NDArray[np.float32] | None = None  # this frame's detection appearances
        self._frame_size: tuple[int, int] | None = None  # (width, height) of the last frame given

    def update(self, detections: Detections, frame: np.ndarray | None = None) -> Detections:
        """Advance one frame; ``frame`` (BGR) is accepted for trackers that use pixels (ByteTrack does not)."""
        self._frame += 1
        config = self.config
        high, low = _split_by_score(detections, config)
        self._frame_size = None if frame is None else (frame.shape[1], frame.shape[0])
        self._looks = (box_appearances(frame, detections.xyxy)
                       if config.appearance_weight > 0 and frame is not None else None)
        xyah = kalman.xyxy_to_xyah(detections.xyxy)
        unconfirmed = [t for t in self._tracked if not t.confirmed]
        pool = [t for t in self._tracked if t.confirmed] + self._lost
        _predict(pool)  # unconfirmed tracks are one frame old and at rest: the reference leaves them be

        # Step 2: high-score detections against every confirmed and lost track.
        first = assign(self._cost(pool, detections, high), config.match_thresh)
        refound = [pool[r] for r, _ in first.matches if pool[r].state == TrackState.LOST]
        for r, c in first.matches:
            self._correct(pool[r], int(high[c]), xyah)

        # Step 3: low-score detections keep still-unmatched tracked tracks alive.
        waiting = [pool[r] for r in first.unmatched_rows if pool[r].state == TrackState.TRACKED]
        second = assign(1.0 - box_iou(_boxes(waiting), detections.xyxy[low]), _LOW_SCORE_MAX_COST)
        for r, c in second.matches:
            self._correct(waiting[r], int(low[c]), xyah, high_score=False)
        newly_lost = [waiting[r] for r in second.unmatched_rows]
        for track in newly_lost:
            track.state = TrackState.LOST

        # Step 4: last frame's new tracks against the high-score detections nobody took.
        left = high[first.unmatched_cols]
        third = assign(self._cost(unconfirmed, detections, left), _UNCONFIRMED_MAX_COST)
        for r, c in third.matches:
            self._correct(unconfirmed[r], int(left[c]), xyah)
        for r in third.unmatched_rows:
            unconfirmed[r].state = TrackState.REMOVED

        # Step 5: new tracks from confident leftovers (or, with re-linking, a lost track continued).
        started = [self._relink(int(i), xyah) or self._start(int(i), xyah) for i in left[third.unmatched_cols]
                   if detections.score[i] >= config.new_track_thresh]

        # Step 6: bookkeeping.
        self._tracked = [t for t in self._tracked if t.state == TrackState.TRACKED] + started + refound
        lost = _keep_lost(self._lost, newly_lost, self._frame, config.lost_frames)
        self._tracked, self._lost = _drop_duplicates(self._tracked, lost)

        live = [t for t in self._tracked if t.confirmed]
        rows = np.array([t.det_index for t in live], dtype=np.int64)
        return detections[rows].with_tracker_ids(np.array([t.track_id for t in live], dtype=np.int64))

    def _cost(self, tracks: list[Track], detections: Detections, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Association cost of ``tracks`` against ``detections[rows]``: 1 - IoU, score-weighted if configured,
        plus ``appearance_weight`` x colour distance when the tracker uses appearance, minus
        ``direction_weight`` x score x direction consistency for boxes that overlap the track."""
        iou = box_iou(_boxes(tracks), detections.xyxy[rows])
        cost = fused_cost(iou, detections.score[rows]) if self.config.fuse_score else 1.0 - iou
        if self.config.direction_weight > 0 and tracks and len(rows):
            cost = cost - self._direction_bonus(tracks, detections, rows) * (iou > 0)
        if self._looks is not None and tracks and len(rows):
            known = np.stack([t.appearance if t.appearance is not None else np.zeros_like(self._looks[0])
                              for t in tracks])
            distance = appearance_distance(known, self._looks[rows])
            # Relative to each track's best-looking candidate: appearance only decides between boxes
            # that overlap a track, and never rejects a track's only box because the light changed.
            cost = cost + self.config.appearance_weight * (distance - distance.min(axis=1, keepdims=True))
        return cost

    def _direction_bonus(self, tracks: list[Track], detections: Detections,
                         rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """(n, m) ``direction_weight`` x detection score x consistency of each track's walking direction
        with each box (see :mod:`edge.tracking.direction`); 0 for tracks without a direction yet."""
        bonus = np.zeros((len(tracks), len(rows)))
        candidates = anchor_points(detections.xyxy[rows], Anchor.CENTER).astype(np.float64)
        weight = self.config.direction_weight * detections.score[rows].astype(np.float64)
        for i, track in enumerate(tracks):
            direction, last = walking_direction(track.seen, self.config.direction_frames,
                                                min_step=_DIRECTION_MIN_STEP * float(track.mean[3]))
            if direction is not None:
                bonus[i] = weight * consistency(direction, last, candidates)
        return bonus

    def _correct(self, track: Track, row: int, xyah: npt.NDArray[np.float64], high_score: bool = True) -> None:
        """Fold detection ``row`` into ``track`` (a matched track is tracked and confirmed)."""
        track.mean, track.covariance = kalman.update(track.mean, track.covariance, xyah[row])
        self._attach(track, row, xyah, high_score)

    def _attach(self, track: Track, row: int, xyah: npt.NDArray[np.float64], high_score: bool) -> None:
        """Mark ``track`` as tracked and confirmed on detection ``row`` this frame (its Kalman state already set)."""
        track.state, track.confirmed = TrackState.TRACKED, True
        track.last_frame, track.det_index = self._frame, row
        track.last_xyah = xyah[row].copy()
        self._remember_look(track, row, high_score)
        self._remember_position(track, xyah[row])

    def _relink(self, row: int, xyah: npt.NDArray[np.float64]) -> Track | None:
        """The lost track that detection ``row`` continues, re-activated on it; None to start a new track.

        Candidates: confirmed lost tracks whose last matched box centre lies within ``_RELINK_REACH`` box
        heights of the detection (``_RELINK_GROWTH`` more per frame lost) and whose colour appearance
        is within ``relink_max_distance``. The closest must beat the next by ``_RELINK_MARGIN``: when two
        lost people look alike, a new id is safer than a swapped one. Tracks last seen at the picture's
        edge are not candidates (:meth:`_left_the_picture`).
        """
        limit = self.config.relink_max_distance
        if limit <= 0 or self._looks is None or not self._looks[row].any():
            return None
        near: list[Track] = []
        for track in self._lost:
            if (track.state != TrackState.LOST or not track.confirmed or track.appearance is None
                    or track.last_xyah is None or self._left_the_picture(track.last_xyah)):
                continue
            reach = _RELINK_REACH * track.last_xyah[3] * (1 + _RELINK_GROWTH * (self._frame - track.last_frame))
            if np.hypot(*(xyah[row, :2] - track.last_xyah[:2])) <= reach:
                near.append(track)
        if not near:
            return None
        distance = appearance_distance(np.stack([t.appearance for t in near]), self._looks[row][None])[:, 0]
        order = np.argsort(distance)
        best = int(order[0])
        if distance[best] >= limit or (len(near) > 1 and distance[order[1]] - distance[best] <= _RELINK_MARGIN):
            return None
        track = near[best]
        # Its Kalman state drifted while it was lost: restart the motion at the new box, keep id and looks.
        track.mean, track.covariance = kalman.initiate(xyah[row])
        self._attach(track, row, xyah, high_score=True)
        return track

    def _left_the_picture(self, xyah: npt.NDArray[np.float64]) -> bool:
        """Whether a box (x, y, a, h) comes within ``_RELINK_EDGE`` of the picture's width or height of an edge."""
        if self._frame_size is None:
            return False
        size = np.array(self._frame_size * 2, np.float64)  # width, height, width, height
        corners = kalman.xyah_to_xyxy(xyah[None])[0] / size  # as shares of the picture
        return bool(min(corners[:2]) <= _RELINK_EDGE or max(corners[2:]) >= 1 - _RELINK_EDGE)

    def _start(self, row: int, xyah: npt.NDArray[np.float64]) -> Track:
        """A new track at detection ``row``; confirmed at once only in the tracker's first frame
        (or always, with ``confirm_new_tracks``)."""
        mean, covariance = kalman.initiate(xyah[row])
        track = Track(self._next_id, mean, covariance, start_frame=self._frame, last_frame=self._frame,
                      det_index=row, confirmed=self._frame == 1 or self.config.confirm_new_tracks,
                      last_xyah=xyah[row].copy())
        self._next_id += 1
        self._remember_look(track, row, high_score=True)
        self._remember_position(track, xyah[row])
        return track

    def _remember_position(self, track: Track, xyah: npt.NDArray[np.float64]) -> None:
        """Append the matched box's centre to ``track.seen`` (only as many as the direction needs)."""
        if self.config.direction_weight > 0:
            track.seen.append((self._frame, xyah[:2].copy()))  # xyah starts with the box centre
            del track.seen[:-(self.config.direction_frames + 1)]

    def _remember_look(self, track: Track, row: int, high_score: bool) -> None:
        """Blend detection ``row``'s appearance into ``track``'s (confident boxes only: a half-hidden
        person's box shows mostly whoever hides them)."""
        if self._looks is None or not high_score or not self._looks[row].any():
            return
        look = self._looks[row]
        m = self.config.appearance_momentum
        track.appearance = look.copy() if track.appearance is None else m * track.appearance + (1 - m) * look
