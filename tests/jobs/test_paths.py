"""Job files stay inside the data directories, whatever ``..`` or symlinks say."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.executor.jobs.paths import PathError, destination_file, inside, source_file


def test_paths_inside_data_dir_resolve(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "a.csv").write_text("x")
    assert source_file(data / "sub" / ".." / "sub" / "a.csv", [data]) == data / "sub" / "a.csv"


def test_paths_dotdot_cannot_leave_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "secret.csv").write_text("x")
    with pytest.raises(PathError, match="outside the data directories"):
        source_file(data / ".." / "secret.csv", [data])


def test_paths_symlink_cannot_leave_data_dir(tmp_path: Path) -> None:
    data, outside = tmp_path / "data", tmp_path / "outside"
    data.mkdir()
    outside.mkdir()
    (outside / "secret.csv").write_text("x")
    (data / "link.csv").symlink_to(outside / "secret.csv")
    (data / "dir").symlink_to(outside)
    with pytest.raises(PathError, match="outside"):
        source_file(data / "link.csv", [data])
    with pytest.raises(PathError, match="outside"):
        destination_file(data / "dir" / "out.csv", [data])
    assert not (outside / "out.csv").exists()


def test_paths_destination_creates_its_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert destination_file(data / "new" / "out.csv", [data]) == data / "new" / "out.csv"
    assert (data / "new").is_dir()


def test_paths_missing_source_and_no_data_dirs(tmp_path: Path) -> None:
    with pytest.raises(PathError, match="does not exist"):
        source_file(tmp_path / "nope.csv", [tmp_path])
    with pytest.raises(PathError, match="no data directories"):
        inside(tmp_path / "x", [])
