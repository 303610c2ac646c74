"""Typed tracker config (ByteTrack), with the defaults of ultralytics' bytetrack.yaml."""

from __future__ import annotations

from pydantic import Field, model_validator

from services.shared.strict import Strict


class TrackerConfig(Strict):
    """ByteTrack association settings. Scores are detector confidences in 0..1."""

    track_high_thresh: float = Field(default=0.25, ge=0.0, le=1.0, description="first association: detections at or above this score")
    track_low_thresh: float = Field(default=0.1, ge=0.0, le=1.0, description="second association: detections above this (and below high) only extend existing tracks")
    new_track_thresh: float = Field(default=0.25, ge=0.0, le=1.0, description="an unmatched detection starts a track only at or above this score")
    track_buffer: int = Field(default=30, ge=1, le=10000, description="frames (at 30 fps) a lost track is kept for re-identification; scaled by frame_rate")
    match_thresh: float = Field(default=0.8, gt=0.0, le=1.0, description="maximum association cost (1 - IoU, fused with score)")
    fuse_score: bool = Field(default=True, description="weigh IoU by detection score in the first association")
    frame_rate: float = Field(default=30.0, gt=0.0, le=240.0, description="frames per second of the stream the tracker sees")
    appearance_weight: float = Field(
        default=0.0, ge=0.0, le=2.0,
        description="add this x colour-appearance distance (0..1, edge.tracking.appearance) to the association cost "
        "of high-score boxes and re-found tracks, so crossing people keep their ids; 0 = plain ByteTrack",
    )
    appearance_momentum: float = Field(
        default=0.9, ge=0.0, lt=1.0, description="how much of a track's appearance carries over per confident match",
    )
    direction_weight: float = Field(
        default=0.0, ge=0.0, le=2.0,
        description="subtract this x detection score x direction consistency (-0.5..0.5, edge.tracking.direction) from "
        "the first association's cost of boxes that overlap a track, so people who cross keep walking their own way "
        "(OC-SORT's momentum term); 0 = plain ByteTrack",
    )
    direction_frames: int = Field(
        default=2, ge=1, le=30, description="a track's walking direction spans its detections this many frames apart",
    )
    relink_max_distance: float = Field(
        default=0.0, ge=0.0, le=1.0,
        description="a confident box that would start a new track first continues a lost track whose last box was "
        "about a box height away and whose colour-appearance distance is under this (and clearly the closest), so a "
        "person the detector missed for a while keeps their id; needs appearance_weight > 0; 0 = off",
    )
    confirm_new_tracks: bool = Field(
        default=False,
        description="a new track counts from its first frame (ByteTrack waits for a second match); for sources so "
        "sparse in time (a frame every second or more) that people move further than their own width between frames",
    )

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> TrackerConfig:
        if self.track_low_thresh > self.track_high_thresh:
            raise ValueError(
                f"track_low_thresh ({self.track_low_thresh}) must not exceed track_high_thresh ({self.track_high_thresh})"
            )
        if self.relink_max_distance > 0 and self.appearance_weight <= 0:
            raise ValueError("relink_max_distance needs appearance_weight > 0 (re-linking compares clothing colour)")
        return self

    @property
    def lost_frames(self) -> int:
        """Frames a lost track survives at this frame rate (ByteTrack: buffer x fps / 30).

        >>> TrackerConfig(track_buffer=30, frame_rate=10).lost_frames
        10
        """
        return max(1, round(self.track_buffer * self.frame_rate / 30.0))
