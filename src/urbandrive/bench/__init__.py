"""Speed benchmarks shared by every stage: `urbandrive bench [--only NAME] [--json FILE]`.

Each stage adds a module here defining functions decorated with `@benchmark(name)`; a
benchmark returns a `Case`: the callable to time, and optionally a baseline callable timed in
the same run so results can be read as ratios (absolute times on shared machines are noisy).
"""

from urbandrive.bench.registry import BENCHMARKS, Case, benchmark, run_benchmarks

__all__ = ["BENCHMARKS", "Case", "benchmark", "run_benchmarks"]
