"""The default planner ("urban"): predict, generate, score, select, like PDM-Closed.

1. Predict the agents (K joint modes) with the configured predictor.
2. Put the ego, the predicted agents and the lights along the route reference.
3. Generate proposals: PDM-style IDM paths (tracked), optionally a Frenet lattice, and the
   emergency stops.
4. Score every candidate against every mode (`UrbanScorer` -> `ScoreTable`).
5. Select with hysteresis, falling back to an emergency stop.
The `Plan` carries every candidate, its score columns, the choice and the prediction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from urbandrive.core.errors import UrbandriveError
from urbandrive.core.observation import Observation
from urbandrive.core.scenario import Scenario
from urbandrive.core.trajectory import Trajectory
from urbandrive.metrics import kernels as metric_kernels
from urbandrive.planning.interfaces import Plan
from urbandrive.planning.proposals.base import ProposalGenerator
from urbandrive.planning.proposals.candidates import Candidates, concatenate
from urbandrive.planning.proposals.context import PlanningContext, path_agents
from urbandrive.planning.proposals.emergency import EmergencyStopConfig, EmergencyStopGenerator
from urbandrive.planning.proposals.lattice import FrenetLatticeGenerator, LatticeConfig
from urbandrive.planning.proposals.pdm import PdmProposalConfig, PdmProposalGenerator
from urbandrive.planning.proposals.previous import (
    PREVIOUS_LABEL,
    PreviousPlanConfig,
    PreviousPlanGenerator,
)
from urbandrive.planning.reference import RouteReference, build_route_reference, red_stops
from urbandrive.planning.scoring.drivable_grid import DrivableAreaGrid
from urbandrive.planning.scoring.risk import RiskMeasure
from urbandrive.planning.scoring.scorer import ScoringConfig, ScoringResult, UrbanScorer
from urbandrive.planning.selection import Selection, SelectionConfig, select
from urbandrive.prediction.interfaces import Prediction, Predictor
from urbandrive.prediction.registry import PREDICTORS, PredictorSettings

#: The "comfortable" emergency stop brakes at this rate (m/s^2), below nuPlan's 4.05 bound with
#: room for the tracker's overshoot: at 4.0 the executed stop on AV2 log 7fab2350 reached
#: -4.2 m/s^2 and failed `ego_is_comfortable` (score 81.7 -> 96.0 with 3.5).
COMFORTABLE_STOP_DECEL_MPS2 = 3.5
#: The urban planner's soft-term weights: nuPlan's for progress, TTC, speed limit and comfort;
#: lane centering at 4 (a neighbour lane costs 0.4 of it, lingering between lanes more): a lane
#: change the route does not ask for must gain a third of the progress term
#: (town:standard cut_in-000, lane_change_dense-003).
URBAN_WEIGHTS = (
    ("progress", 5.0),
    ("time_to_collision", 5.0),
    ("speed_limit", 4.0),
    ("comfort", 2.0),
    ("vru_clearance", 2.0),
    ("smoothness", 1.0),
    ("lane_centering", 4.0),
    ("consistency", 1.0),
    ("headway", 6.0),
    ("braking", 2.0),
)
#: (length, width) added to the ego's box in the planner's collision check, metres: 0.4 m
#: either side, so passing a car or nudging round one keeps a margin (double_parked needs
#: 0.3 m; 0.5 m either side blocked the lane beside a truck on AV2 log adcf7d18, 0.3 m left
#: lane_change_dense-002 squeezing into a gap and hit).
URBAN_COLLISION_BUFFER_M = (0.5, 0.8)
#: Passing a pedestrian / cyclist / animal closer than this (from the buffered box: 1.1 m from
#: the ego's own box sideways, the families' 1.0 m and 0.1 m spare) zeroes the VRU clearance
#: term: town:standard/jaywalker-013 swerved past at 0.66 m rather than brake (0.7: 1.23 m;
#: 0.8: 0.76 m, 0.9: 1.46 m but right_turn_pedestrians-000 then stalled, score 64 -> 0).
URBAN_VRU_CLEARANCE_FLOOR_M = 0.7


@dataclass(frozen=True, slots=True)
class UrbanPlannerConfig:
    """predictor: a name of `urbandrive.prediction.registry.PREDICTORS` ("cv", "lane", ...);
    lattice: None leaves the Frenet lattice out (PDM-Closed's proposals only)."""

    predictor: str = "cv"
    horizon_s: float = 8.0
    dt_s: float = 0.1
    pdm: PdmProposalConfig = field(default_factory=PdmProposalConfig)
    lattice: LatticeConfig | None = field(default_factory=LatticeConfig)
    emergency: EmergencyStopConfig = field(
        default_factory=lambda: EmergencyStopConfig(
            comfortable_decel_mps2=COMFORTABLE_STOP_DECEL_MPS2
        )
    )
    previous: PreviousPlanConfig | None = field(default_factory=PreviousPlanConfig)
    scoring: ScoringConfig = field(
        default_factory=lambda: ScoringConfig(
            weights=URBAN_WEIGHTS,
            collision_buffer_m=URBAN_COLLISION_BUFFER_M,
            vru_clearance_floor_m=URBAN_VRU_CLEARANCE_FLOOR_M,
        )
    )
    selection: SelectionConfig = field(default_factory=SelectionConfig)

    def __post_init__(self) -> None:
        if not 0 < self.dt_s <= self.horizon_s:
            raise ValueError(f"need 0 < dt_s <= horizon_s, got {self.dt_s}, {self.horizon_s}")


#: PDM-Closed's proposal set (15 + neighbour lanes) with our scorer.
PDM_CLOSED = UrbanPlannerConfig(lattice=None)
#: PDM proposals and the Frenet lattice, scored by expectation over the modes.
URBAN_DEFAULT = UrbanPlannerConfig()
#: As URBAN_DEFAULT, with CVaR over the worst 30 % of the predicted futures.
RISK_AVERSE = UrbanPlannerConfig(
    scoring=ScoringConfig(
        weights=URBAN_WEIGHTS,
        collision_buffer_m=URBAN_COLLISION_BUFFER_M,
        vru_clearance_floor_m=URBAN_VRU_CLEARANCE_FLOOR_M,
        risk=RiskMeasure.CVAR,
        cvar_alpha=0.3,
    )
)


@dataclass(frozen=True, slots=True)
class PlanningCycle:
    """Everything one cycle produced, for `explain` and tests."""

    context: PlanningContext
    candidates: Candidates
    scoring: ScoringResult
    selection: Selection


class UrbanPlanner:
    """Predict, generate, score, select (module doc); implements `Planner`."""

    name = "urban"

    def __init__(
        self,
        scenario: Scenario,
        config: UrbanPlannerConfig | None = None,
        predictor: Predictor | None = None,
    ) -> None:
        """predictor: overrides `config.predictor` (e.g. a model object, or a test double)."""
        if scenario.route is None or scenario.road_map is None or scenario.ego_index is None:
            raise UrbandriveError(
                f"scenario {scenario.id!r}: the urban planner needs a route, map and ego"
            )
        self.config = config if config is not None else URBAN_DEFAULT
        self.road_map = scenario.road_map
        self.reference: RouteReference = build_route_reference(scenario.road_map, scenario.route)
        self.ego_size_m = scenario.tracks.size_m[scenario.ego_index].copy()
        self.predictor = (
            predictor
            if predictor is not None
            else resolve_predictor(self.config.predictor, self.config)
        )
        self.generators: list[ProposalGenerator] = [PdmProposalGenerator(self.config.pdm)]
        if self.config.lattice is not None:
            self.generators.append(FrenetLatticeGenerator(self.config.lattice))
        if self.config.previous is not None:
            self.generators.append(PreviousPlanGenerator(self.config.previous))
        self.generators.append(EmergencyStopGenerator(self.config.emergency))
        grid = DrivableAreaGrid.around(scenario.road_map, self.reference.path.xy)
        self.scorer = UrbanScorer(grid, self.config.scoring)
        self.times_s = self.config.dt_s * np.arange(
            round(self.config.horizon_s / self.config.dt_s) + 1
        )
        self._previous: tuple[float, Trajectory, str] | None = None

    def plan(self, observation: Observation) -> Plan:
        cycle = self.cycle(observation)
        chosen = cycle.selection.index
        label = cycle.candidates.labels[chosen]
        if label == PREVIOUS_LABEL and self._previous is not None:
            # the continued plan is the old one: keep it (and its time), not its extension
            self._previous = (self._previous[0], self._previous[1], label)
        else:
            self._previous = (observation.time_s, cycle.candidates.trajectory(chosen), label)
        return self.to_plan(cycle)

    @staticmethod
    def to_plan(cycle: PlanningCycle) -> Plan:
        """The `Plan` of a cycle: the chosen candidate, all candidates and their scores."""
        chosen = cycle.selection.index
        return Plan(
            trajectory=commanded_accel(cycle.candidates.trajectory(chosen)),
            candidates=cycle.candidates.trajectory(),
            scores=cycle.scoring.table.columns(),
            selected=chosen,
            prediction=cycle.context.prediction,
        )

    def cycle(self, observation: Observation) -> PlanningCycle:
        """One planning cycle, every intermediate kept."""
        metric_kernels.forget_cos_sin()  # nothing from the last cycle's headings is reused
        # 1. Predict
        prediction = self.predictor.predict(observation)
        # 2. Put the ego, the agents and the lights along the reference
        context = self.context(observation, prediction)
        # 3. Generate proposals
        candidates = concatenate([generator.generate(context) for generator in self.generators])
        # 4. Score
        scoring = self.scorer.score(context, candidates)
        # 5. Select
        selection = select(
            scoring.table,
            candidates,
            scoring.time_to_at_fault_collision_s,
            context.ego_speed_mps,
            context.previous_label,
            self.config.selection,
        )
        return PlanningCycle(context, candidates, scoring, selection)

    def context(self, observation: Observation, prediction: Prediction) -> PlanningContext:
        """The cycle's `PlanningContext` (ego state, agents along the path, lights, last plan)."""
        history, ego = observation.history, observation.ego_index
        heading = float(history.heading[ego, -1])
        direction = np.array([np.cos(heading), np.sin(heading)])
        speed = max(0.0, float(history.velocity[ego, -1] @ direction))
        accel = 0.0
        if history.num_steps > 1 and history.valid[ego, -2]:
            accel = (
                float((history.velocity[ego, -1] - history.velocity[ego, -2]) @ direction)
                / observation.dt_s
            )
        s_now, d_now = (
            float(v[0]) for v in self.reference.path.to_frenet(history.xy[ego, -1][None])
        )
        previous_xy, previous_label, previous_plan, previous_age_s = None, None, None, 0.0
        if self._previous is not None:
            time_s, previous_plan, previous_label = self._previous
            previous_age_s = observation.time_s - time_s
            previous_xy = previous_plan.at(self.times_s + previous_age_s).xy
        return PlanningContext(
            observation=observation,
            reference=self.reference,
            prediction=prediction,
            agents=path_agents(observation, prediction, self.reference, self.times_s),
            times_s=self.times_s,
            ego_center_xy=history.xy[ego, -1].copy(),
            ego_heading_rad=heading,
            ego_speed_mps=speed,
            ego_accel_mps2=float(np.clip(accel, -8.0, 3.0)),
            ego_size_m=self.ego_size_m,
            s_now_m=s_now,
            d_now_m=d_now,
            red_stop=red_stops(self.reference, self.road_map, observation.traffic_lights),
            previous_xy=previous_xy,
            previous_label=previous_label,
            previous_plan=previous_plan,
            previous_age_s=previous_age_s,
        )


def commanded_accel(trajectory: Trajectory) -> Trajectory:
    """`trajectory` with its acceleration over each step, (v[k+1] - v[k]) / dt (the last one
    held): what a tracker should apply now. A candidate's own column holds the state's
    acceleration, at step 0 the one measured now, so a tracker fed it held the ego's current
    acceleration whatever the plan (town:standard cyclist_merge-011: the chosen plan braked at
    up to 8 m/s^2, the ego kept accelerating at 0.5 m/s^2 into the cyclist)."""
    speed = trajectory.speed_mps
    if speed.shape[-1] < 2:
        return trajectory
    accel = np.diff(speed, axis=-1) / np.diff(trajectory.times_s)
    return dataclasses.replace(trajectory, accel_mps2=np.concatenate([accel, accel[..., -1:]], -1))


def resolve_predictor(name: str, config: UrbanPlannerConfig) -> Predictor:
    """The predictor called `name` in `urbandrive.prediction.registry.PREDICTORS`, built for
    the planner's horizon and step; `UrbandriveError` naming the known ones if unknown."""
    settings = PredictorSettings(horizon_s=config.horizon_s, dt_s=config.dt_s)
    return PREDICTORS.create(name, settings)


def with_config(config: UrbanPlannerConfig, **changes: object) -> UrbanPlannerConfig:
    """A copy of `config` with fields replaced (presets are frozen)."""
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]
