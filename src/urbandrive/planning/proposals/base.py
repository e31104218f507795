"""The proposal contract: `ProposalGenerator.generate(context) -> Candidates`."""

from __future__ import annotations

from typing import Protocol

from urbandrive.planning.proposals.candidates import Candidates
from urbandrive.planning.proposals.context import PlanningContext


class ProposalGenerator(Protocol):
    """Anything that proposes candidate ego trajectories for one cycle."""

    name: str

    def generate(self, context: PlanningContext) -> Candidates: ...
