"""Argoverse 2 object categories -> `AgentType`, for both the sensor and forecasting datasets.

The sensor dataset labels 30 categories (av2-api `AnnotationCategories`). A ridden bicycle,
motorcycle or scooter is labelled twice: the vehicle (BICYCLE, MOTORCYCLE, WHEELED_DEVICE) and
its rider (BICYCLIST, MOTORCYCLIST, WHEELED_RIDER); the rider carries the agent's type and the
vehicle alone is STATIC, as a riderless one is. Prams and wheelchairs carry people: PEDESTRIAN.
The original label is always kept per agent (`source_category`).
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.typing import NDArrayInt

#: Every category of av2-api `AnnotationCategories` (sensor dataset) -> our type.
SENSOR_CATEGORY_TO_TYPE: dict[str, AgentType] = {
    "REGULAR_VEHICLE": AgentType.VEHICLE,
    "LARGE_VEHICLE": AgentType.LARGE_VEHICLE,
    "BUS": AgentType.LARGE_VEHICLE,
    "ARTICULATED_BUS": AgentType.LARGE_VEHICLE,
    "SCHOOL_BUS": AgentType.LARGE_VEHICLE,
    "BOX_TRUCK": AgentType.LARGE_VEHICLE,
    "TRUCK": AgentType.LARGE_VEHICLE,
    "TRUCK_CAB": AgentType.LARGE_VEHICLE,
    "VEHICULAR_TRAILER": AgentType.LARGE_VEHICLE,
    "RAILED_VEHICLE": AgentType.LARGE_VEHICLE,
    "BICYCLIST": AgentType.CYCLIST,
    "WHEELED_RIDER": AgentType.CYCLIST,
    "MOTORCYCLIST": AgentType.MOTORCYCLIST,
    "PEDESTRIAN": AgentType.PEDESTRIAN,
    "OFFICIAL_SIGNALER": AgentType.PEDESTRIAN,
    "STROLLER": AgentType.PEDESTRIAN,
    "WHEELCHAIR": AgentType.PEDESTRIAN,
    "ANIMAL": AgentType.ANIMAL,
    "DOG": AgentType.ANIMAL,
    "BICYCLE": AgentType.STATIC,
    "MOTORCYCLE": AgentType.STATIC,
    "WHEELED_DEVICE": AgentType.STATIC,
    "BOLLARD": AgentType.STATIC,
    "CONSTRUCTION_BARREL": AgentType.STATIC,
    "CONSTRUCTION_CONE": AgentType.STATIC,
    "SIGN": AgentType.STATIC,
    "STOP_SIGN": AgentType.STATIC,
    "MOBILE_PEDESTRIAN_CROSSING_SIGN": AgentType.STATIC,
    "MESSAGE_BOARD_TRAILER": AgentType.STATIC,
    "TRAFFIC_LIGHT_TRAILER": AgentType.STATIC,
}

#: Every av2-api `ObjectType` (motion-forecasting dataset) -> our type. av2-api groups static,
#: background, construction and riderless_bicycle as "static objects".
FORECASTING_TYPE_TO_TYPE: dict[str, AgentType] = {
    "vehicle": AgentType.VEHICLE,
    "bus": AgentType.LARGE_VEHICLE,
    "pedestrian": AgentType.PEDESTRIAN,
    "motorcyclist": AgentType.MOTORCYCLIST,
    "cyclist": AgentType.CYCLIST,
    "static": AgentType.STATIC,
    "background": AgentType.STATIC,
    "construction": AgentType.STATIC,
    "riderless_bicycle": AgentType.STATIC,
    "unknown": AgentType.UNKNOWN,
}


def types_of(categories: np.ndarray, table: dict[str, AgentType]) -> NDArrayInt:
    """int8[A] `AgentType` values of `categories: str[A]`; labels not in `table` -> UNKNOWN.

    Vectorised over the distinct labels; an unlisted label keeps its agent (as UNKNOWN, with
    the label in `source_category`) rather than dropping it.
    """
    labels, inverse = np.unique(categories, return_inverse=True)
    label_types = np.array([int(table.get(str(label), AgentType.UNKNOWN)) for label in labels])
    return label_types.astype(np.int8)[inverse.reshape(-1)] if labels.size else np.zeros(0, np.int8)
