"""A cache of the learned model's map encodings: the map is static across a scenario's cycles.

The encoder reads each map polyline only through its token, and the token only through the
map attention's keys and values; both depend on the polyline alone (its points in its own
frame, its features), not on the scene. `MapEncodingCache` keeps them per map piece
(`maps.vectorize.polyline_pieces`), for the last few maps by identity, and encodes a piece
the first time a scene has it in view. Pieces are encoded from their float64 map-frame
points, moved into their own frame before the float32 cast, so an encoding never depends on
the scene frame of the cycle that first needed it (the scene-frame route, `encode_map`,
agrees up to float32 rounding).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.maps.road_map import RoadMap
from urbandrive.maps.vectorize import PolylinePieces, polyline_pieces
from urbandrive.prediction.features import MAP_POINT_SPACING_M, to_frame
from urbandrive.prediction.model import EncodedMap, JointPredictionModel


@dataclass(slots=True)
class _MapEntry:
    """One map's pieces: origin float64[K, 2] and heading [K] (map frame, `polyline_poses`),
    keys_values float32 (num_layers, K, 2D), filled bool[K] (encoded yet). Holds the map so
    its id is not reused while the entry lives."""

    road_map: RoadMap
    pieces: PolylinePieces
    origin: NDArrayF64
    heading: NDArrayF64
    keys_values: torch.Tensor
    filled: NDArrayBool


def piece_poses(pieces: PolylinePieces) -> tuple[NDArrayF64, NDArrayF64]:
    """Each piece's pose, map frame: origin float64[K, 2] = its first point, heading [K] =
    direction from the first to the last valid point (as `features.polyline_poses`)."""
    count = np.maximum(pieces.valid.sum(1), 1)
    first = pieces.points[:, 0]
    last = pieces.points[np.arange(len(count)), count - 1]
    direction = last - first
    return first, np.arctan2(direction[:, 1], direction[:, 0])


def piece_point_inputs(
    pieces: PolylinePieces, ids: NDArrayInt, origin: NDArrayF64, heading: NDArrayF64
) -> torch.Tensor:
    """(n, P, 5) float32: the points of pieces `ids` in their own frames (m / 10), the segment
    to the next point (m), valid flag (`features.polyline_point_inputs`, from float64)."""
    valid = pieces.valid[ids]
    cos, sin = np.cos(heading[ids])[:, None], np.sin(heading[ids])[:, None]
    offset = pieces.points[ids] - origin[ids][:, None]
    local = np.stack(
        [cos * offset[..., 0] + sin * offset[..., 1], -sin * offset[..., 0] + cos * offset[..., 1]],
        -1,
    )
    local = np.where(valid[..., None], local, 0.0)
    segment = np.diff(local, axis=1, append=local[:, -1:])
    following = np.concatenate([valid[:, 1:], np.zeros_like(valid[:, :1])], 1)
    segment = segment * (valid & following)[..., None]
    features = np.concatenate([local / 10.0, segment, valid[..., None]], -1) * valid[..., None]
    return torch.from_numpy(features.astype(np.float32))


class MapEncodingCache:
    """The map attention's keys and values of every map piece seen, per map (the last
    `max_maps` maps by identity, least recently used dropped), filled piece by piece.

    Bound to one model: its weights must not change while the cache is used."""

    def __init__(
        self, model: JointPredictionModel, points_per_polyline: int, max_maps: int = 4
    ) -> None:
        if max_maps < 1:
            raise ValueError(f"max_maps must be >= 1, got {max_maps}")
        self.model = model
        self.points_per_polyline = points_per_polyline
        self.max_maps = max_maps
        self._entries: OrderedDict[int, _MapEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _entry(self, road_map: RoadMap) -> _MapEntry:
        """The map's entry (made on first use; the least recently used one dropped)."""
        key = id(road_map)
        entry = self._entries.get(key)
        if entry is not None and entry.road_map is road_map:
            self._entries.move_to_end(key)
            return entry
        pieces = polyline_pieces(road_map, self.points_per_polyline, MAP_POINT_SPACING_M)
        origin, heading = piece_poses(pieces)
        config = self.model.config
        shape = (config.num_layers, len(origin), 2 * config.hidden_dim)
        entry = _MapEntry(
            road_map, pieces, origin, heading, torch.zeros(shape), np.zeros(len(origin), bool)
        )
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_maps:
            self._entries.popitem(last=False)
        return entry

    @torch.inference_mode()
    def _fill(self, entry: _MapEntry, ids: NDArrayInt) -> None:
        """Encode the pieces `ids` (unique, not filled yet) into the entry."""
        model, pieces = self.model, entry.pieces
        inputs = piece_point_inputs(pieces, ids, entry.origin, entry.heading)
        valid = torch.from_numpy(pieces.valid[ids])
        tokens = model.encode_polylines(inputs, valid, torch.from_numpy(pieces.features[ids]))
        rows = torch.from_numpy(ids)
        for layer, attention in enumerate(model.map_attention):
            entry.keys_values[layer, rows] = attention.keys_values(tokens)
        entry.filled[ids] = True

    def encode(
        self,
        road_map: RoadMap,
        piece_ids: NDArrayInt,
        origin_xy: NDArrayF64,
        origin_heading: float,
    ) -> EncodedMap:
        """The `EncodedMap` (batch of one) of the polylines `piece_ids: int64[L]` (indices into
        the map's pieces, -1 for padding rows) for a scene frame at `origin_xy: float64[2]`,
        `origin_heading` (rad)."""
        entry = self._entry(road_map)
        ids = np.asarray(piece_ids, dtype=np.int64)
        real = ids >= 0
        if np.any(ids >= len(entry.filled)):
            raise DataError(
                f"map {road_map.source!r}: polyline piece {int(ids.max())} of "
                f"{len(entry.filled)} (vectorised with another setting?)"
            )
        chosen = ids[real]
        filled = entry.filled[chosen]
        if not filled.all():
            self._fill(entry, np.unique(chosen[~filled]))
        safe = np.where(real, ids, 0)
        rows = entry.keys_values.index_select(1, torch.from_numpy(safe))
        keys_values = rows * torch.from_numpy(real)[:, None]
        origin = np.where(real[:, None], to_frame(entry.origin[safe], origin_xy, origin_heading), 0)
        heading = np.where(real, entry.heading[safe] - origin_heading, 0.0)
        return EncodedMap(
            keys_values[:, None],
            torch.from_numpy(origin.astype(np.float32))[None],
            torch.from_numpy(np.arctan2(np.sin(heading), np.cos(heading)).astype(np.float32))[None],
        )
