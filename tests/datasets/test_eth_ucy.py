"""The ETH/UCY loader: synthetic files with every irregularity, and the real folds."""

from pathlib import Path

import numpy as np
import pytest

from urbandrive.core import AgentType, DataError
from urbandrive.datasets.eth_ucy import DT_S, LOADER, load_eth_ucy_file

ROWS = [
    "100\t1.0\t0.0\t0.0",
    "100\t2.0\t5.0\t5.0",
    "110\t1.0\t0.4\t0.0",
    "110\t1.0\t0.4\t0.0",  # verbatim duplicate: dropped
    "120\t1.0\t0.8\t0.0",
    "",  # blank line: skipped
    "150\t1.0\t2.0\t0.4",  # pedestrian 1 unseen at 130 and 140 (a gap)
    "150\t3.0\t9.0\t9.0",  # frames 130, 140: nobody at all
]


def _write(tmp_path: Path, lines: list[str], name: str = "scene.txt") -> Path:
    path = tmp_path / "fold" / "test" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_rows_become_a_regular_grid_of_pedestrians(tmp_path):
    scenario = load_eth_ucy_file(_write(tmp_path, ROWS))
    tracks = scenario.tracks
    assert scenario.dt_s == DT_S == 0.4 and scenario.ego_index is None
    assert scenario.road_map is None
    assert tracks.ids.tolist() == ["1", "2", "3"]
    assert set(tracks.types.tolist()) == {AgentType.PEDESTRIAN}
    np.testing.assert_array_equal(scenario.timestamps_us, np.arange(100, 160, 10) * 40_000)
    assert tracks.valid.tolist()[0] == [True, True, True, False, False, True]
    assert tracks.valid.sum() == 6 and scenario.metadata["duplicate_rows"] == 1


def test_velocity_never_looks_ahead_except_at_a_track_start(tmp_path):
    tracks = load_eth_ucy_file(_write(tmp_path, ROWS)).tracks
    np.testing.assert_allclose(tracks.velocity[0, :3], [[1.0, 0.0]] * 3)  # 0.4 m per 0.4 s
    np.testing.assert_allclose(tracks.velocity[0, 5], [0.0, 0.0])  # after a gap: isolated
    np.testing.assert_allclose(tracks.velocity[1, 0], [0.0, 0.0])  # seen once
    np.testing.assert_allclose(tracks.heading[0, :3], 0.0)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("100\t1.0\t0.0", "expected 4 fields"),
        ("100\t1.0\tabc\t0.0", "non-numeric"),
        ("100.5\t1.0\t0.0\t0.0", "frame 100.5 is not an integer"),
        ("100\t1.5\t0.0\t0.0", "pedestrian id 1.5 is not an integer"),
        ("100\t1.0\tnan\t0.0", "non-finite"),
    ],
)
def test_malformed_lines_name_the_file_and_line(tmp_path, line, message):
    path = _write(tmp_path, [*ROWS[:3], line])
    with pytest.raises(DataError, match=f"scene.txt:4: .*{message}"):
        load_eth_ucy_file(path)


def test_conflicting_rows_and_off_grid_frames_are_refused(tmp_path):
    with pytest.raises(DataError, match="pedestrian 1 has two different positions at frame 110"):
        load_eth_ucy_file(_write(tmp_path, [*ROWS[:3], "110\t1.0\t0.5\t0.0"]))
    with pytest.raises(DataError, match="frame 105 is not a multiple"):
        load_eth_ucy_file(_write(tmp_path, [*ROWS[:3], "105\t1.0\t0.5\t0.0"]))
    with pytest.raises(DataError, match="no trajectory rows"):
        load_eth_ucy_file(_write(tmp_path, [""]))


def test_list_scenarios_lists_the_text_files_of_a_folder(tmp_path):
    first = _write(tmp_path, ROWS, "a.txt")
    second = _write(tmp_path, ROWS, "b.txt")
    assert LOADER.list_scenarios(str(first.parent)) == [str(first), str(second)]
    assert LOADER.scheme == "eth_ucy"
    with pytest.raises(DataError, match="no such"):
        LOADER.load(str(tmp_path / "missing.txt"))


def _independent_counts(path: Path) -> tuple[int, int, int]:
    """(rows, pedestrians, steps) read with numpy alone."""
    table = np.loadtxt(path, delimiter="\t", ndmin=2)
    steps = int((table[:, 0].max() - table[:, 0].min()) // 10) + 1
    return len(np.unique(table, axis=0)), len(np.unique(table[:, 1])), steps


@pytest.mark.real_data
@pytest.mark.parametrize("fold", ["eth", "hotel", "univ", "zara1", "zara2"])
def test_real_test_folds_match_an_independent_read(data_dir, fold):
    folder = data_dir / "eth_ucy" / fold / "test"
    if not folder.is_dir():
        pytest.skip(f"ETH/UCY data not found at {folder}")
    for location in LOADER.list_scenarios(str(folder)):
        scenario = LOADER.load(location)
        rows, pedestrians, steps = _independent_counts(Path(location))
        assert (int(scenario.tracks.valid.sum()), scenario.tracks.num_agents) == (rows, pedestrians)
        assert scenario.num_steps == steps
