"""The changelog: fragments lint clean, CHANGELOG.rst is what antsibull-changelog generates, versions agree."""

import shutil
import subprocess
import sys
from pathlib import Path

import docutils.core
import yaml
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parents[2]
ANTSIBULL_CHANGELOG = Path(sys.executable).parent / "antsibull-changelog"
CHANGELOGS = REPO_ROOT / "changelogs"
CHANGELOG_RST = REPO_ROOT / "CHANGELOG.rst"


def antsibull_changelog(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ANTSIBULL_CHANGELOG), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )


def released_versions() -> list[Version]:
    releases = yaml.safe_load((CHANGELOGS / "changelog.yaml").read_text())["releases"] or {}
    return sorted(Version(version) for version in releases)


def galaxy_version() -> Version:
    return Version(yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"])


def copy_changelog_sources(destination: Path) -> None:
    """What `antsibull-changelog generate` reads: the changelogs/ directory and galaxy.yml."""
    shutil.copytree(CHANGELOGS, destination / "changelogs", ignore=shutil.ignore_patterns(".plugin-cache.yaml"))
    shutil.copy2(REPO_ROOT / "galaxy.yml", destination / "galaxy.yml")


def test_fragments_lint_clean():
    result = antsibull_changelog("lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


def test_changelog_yaml_lints_clean():
    result = antsibull_changelog("lint-changelog-yaml", str(CHANGELOGS / "changelog.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


def test_changelog_rst_is_what_generate_produces(tmp_path):
    copy_changelog_sources(tmp_path)
    result = antsibull_changelog("generate", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    generated = (tmp_path / "CHANGELOG.rst").read_text()
    assert CHANGELOG_RST.read_text() == generated, "CHANGELOG.rst is stale or edited by hand: run antsibull-changelog"


def test_changelog_rst_is_valid_restructuredtext():
    document = docutils.core.publish_doctree(
        CHANGELOG_RST.read_text(), settings_overrides={"report_level": 5, "halt_level": 5}
    )
    problems = [node.astext() for node in document.findall(lambda node: node.tagname == "system_message")]
    assert problems == []


def test_galaxy_version_is_the_newest_release():
    versions = released_versions()
    assert versions, "changelogs/changelog.yaml has no release"
    assert galaxy_version() == versions[-1]


def test_changelog_rst_has_a_section_per_release():
    text = CHANGELOG_RST.read_text()
    for version in released_versions():
        assert f"\nv{version}\n" in text


def test_fragments_directory_is_kept_for_the_next_release():
    notes_dir = CHANGELOGS / yaml.safe_load((CHANGELOGS / "config.yaml").read_text())["notesdir"]
    assert notes_dir.is_dir()
    assert any(notes_dir.iterdir()), f"git keeps no empty directory: keep {notes_dir.relative_to(REPO_ROOT)}/.keep"
