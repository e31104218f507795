"""Public builders of small synthetic maps and scenes, for tests (ours and users')."""

from urbandrive.testing.builders import scenario_from_states, straight_road

__all__ = ["scenario_from_states", "straight_road"]
