"""Write aside, then move in one rename: the old file or the new one, never a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from niprep.run.atomic import write_then_move
from niprep.run.output_tree import OutputTree


def test_the_new_bytes_replace_the_old_file_and_nothing_stays_aside(tmp_path: Path):
    aside = tmp_path / "aside"
    aside.mkdir()
    target = tmp_path / "stats.csv"
    target.write_bytes(b"old\n")
    write_then_move(b"new\n", target, aside, sync=True)
    assert target.read_bytes() == b"new\n"
    assert list(aside.iterdir()) == []


def test_a_failed_move_leaves_the_target_and_nothing_aside(tmp_path: Path):
    aside = tmp_path / "aside"
    aside.mkdir()
    target = tmp_path / "taken"
    (target / "inner").mkdir(parents=True)  # a folder with a file in it cannot be replaced
    with pytest.raises(OSError):
        write_then_move(b"data", target, aside)
    assert [path.name for path in target.iterdir()] == ["inner"]
    assert list(aside.iterdir()) == []


def test_moving_through_the_output_tree_refuses_a_link_on_the_way(tmp_path: Path):
    out = tmp_path / "out"
    (out / ".niprep").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "preview").symlink_to(elsewhere)
    with pytest.raises(ValueError, match="link"):
        write_then_move(b"png", "preview/axial_annotations_preview.png", out / ".niprep",
                        move=OutputTree(out).place)
    assert list(elsewhere.iterdir()) == [] and list((out / ".niprep").iterdir()) == []
