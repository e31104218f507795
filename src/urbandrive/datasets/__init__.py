"""Adapters at the edge: datasets -> core types, by URI (`av2:PATH`, ...)."""

from urbandrive.datasets.registry import (
    LOADERS,
    ScenarioLoader,
    expand_uris,
    known_schemes,
    load_scenario,
    register,
)
from urbandrive.datasets.summary import summarize_scenario

__all__ = [
    "LOADERS",
    "ScenarioLoader",
    "expand_uris",
    "known_schemes",
    "load_scenario",
    "register",
    "summarize_scenario",
]
