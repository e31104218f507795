"""How a bird's-eye picture is framed and sized: one frozen config, units in the names."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from urbandrive.core.errors import UrbandriveError


class ViewMode(enum.Enum):
    """FOLLOW_EGO: a square window centred on the ego at each frame; WHOLE_MAP: the map extent."""

    FOLLOW_EGO = "follow_ego"
    WHOLE_MAP = "whole_map"


@dataclass(frozen=True, slots=True)
class RenderConfig:
    """Framing, size and timing of rendered pictures.

    view: what the window shows; without an ego, FOLLOW_EGO falls back to WHOLE_MAP.
    view_radius_m: half the width of the FOLLOW_EGO window, metres.
    map_margin_m: space kept around the extent in WHOLE_MAP, metres.
    figure_size_in: (width, height) of the whole picture in inches; pixels = size * dpi.
    history_s: length of the fading tail behind each agent, seconds (0 disables it).
    frame_stride: animations draw every `frame_stride`-th step (frame duration = stride * dt).
    show_legend / show_centerlines: toggles for the agent legend and the dashed centrelines.
    """

    view: ViewMode = ViewMode.FOLLOW_EGO
    view_radius_m: float = 60.0
    map_margin_m: float = 10.0
    figure_size_in: tuple[float, float] = (8.0, 8.75)
    dpi: int = 100
    history_s: float = 2.0
    frame_stride: int = 1
    show_legend: bool = True
    show_centerlines: bool = True

    def __post_init__(self) -> None:
        if not self.view_radius_m > 0:
            raise UrbandriveError(
                f"RenderConfig.view_radius_m must be > 0, got {self.view_radius_m}"
            )
        if not self.map_margin_m >= 0:
            raise UrbandriveError(
                f"RenderConfig.map_margin_m must be >= 0, got {self.map_margin_m}"
            )
        if len(self.figure_size_in) != 2 or min(self.figure_size_in) <= 0:
            raise UrbandriveError(
                f"RenderConfig.figure_size_in must be two sizes > 0, got {self.figure_size_in}"
            )
        if self.dpi < 10:
            raise UrbandriveError(f"RenderConfig.dpi must be >= 10, got {self.dpi}")
        if not self.history_s >= 0:
            raise UrbandriveError(f"RenderConfig.history_s must be >= 0, got {self.history_s}")
        if self.frame_stride < 1:
            raise UrbandriveError(
                f"RenderConfig.frame_stride must be >= 1, got {self.frame_stride}"
            )

    @property
    def size_px(self) -> tuple[int, int]:
        """(width, height) of a frame in pixels (truncated, as Agg does)."""
        width_in, height_in = self.figure_size_in
        return int(width_in * self.dpi), int(height_in * self.dpi)
