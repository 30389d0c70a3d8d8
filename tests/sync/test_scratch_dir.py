"""A sync run's scratch directory lives in the data dir; a killed run's leftovers go with the next run."""

from __future__ import annotations

from cvewatch.sync import services


def test_scratch_is_under_the_data_dir_and_a_killed_runs_leftovers_are_removed(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    work = tmp_path / "sync" / "work"
    work.mkdir(parents=True)
    (work / "kev-left-by-a-killed-run").mkdir()
    (work / "kev-left-by-a-killed-run" / "feed.json").write_text("{}")
    (work / "nvd-another-source").mkdir()  # another source's run, maybe going on: not touched

    scratch = services._scratch_dir("kev")
    assert scratch.parent == work and scratch.name.startswith("kev-") and scratch.is_dir()
    assert sorted(p.name for p in work.iterdir()) == sorted([scratch.name, "nvd-another-source"])
