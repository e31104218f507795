"""Scoring: metric terms over all candidates and modes, risk aggregation, the ScoreTable."""
