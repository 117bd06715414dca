"""tools/generated_files.py: the write-or-check step of the doc generators."""

from pathlib import Path

from generated_files import write_or_check

FILES = {Path("docs") / "a.md": "A\n", Path("b.txt"): "B\n"}


def test_it_writes_every_file_creating_folders(tmp_path):
    assert write_or_check(tmp_path, FILES, check=False, tool="x.py") == 0
    assert {path: (tmp_path / path).read_text() for path in FILES} == FILES


def test_check_passes_on_current_files_and_writes_nothing(tmp_path):
    write_or_check(tmp_path, FILES, check=False, tool="x.py")
    before = {path: (tmp_path / path).stat().st_mtime_ns for path in FILES}

    assert write_or_check(tmp_path, FILES, check=True, tool="x.py") == 0
    assert {path: (tmp_path / path).stat().st_mtime_ns for path in FILES} == before


def test_check_names_the_missing_and_the_stale_files(tmp_path, capsys):
    (tmp_path / "b.txt").write_text("old\n")

    assert write_or_check(tmp_path, FILES, check=True, tool="x.py") == 1
    assert not (tmp_path / "docs" / "a.md").exists()
    assert capsys.readouterr().err.strip() == "out of date (run tools/x.py): docs/a.md, b.txt"
