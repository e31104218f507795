"""Closed-loop simulation: engine, runner, batch execution (local processes or Ray)."""
