"""The architecture diagram and role table: rendered from the current sources, and failing when they drift."""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import render_architecture
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
SVG_NS = "{http://www.w3.org/2000/svg}"


def site_order() -> list[str]:
    play = yaml.safe_load((REPO_ROOT / "playbooks" / "site.yml").read_text())[0]
    return [entry["role"].split(".")[-1] for entry in play["roles"]]


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(element.itertext()) for element in root.iter(f"{SVG_NS}text")]


@pytest.fixture
def repo_copy(tmp_path):
    """The sources and generated files the renderer reads and writes, in a scratch directory."""
    for name in ("playbooks", "roles", "docs"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def test_committed_files_are_rendered_from_the_current_sources():
    assert render_architecture.main(["--check"]) == 0


def test_svg_is_well_formed_and_shows_every_role_in_site_order():
    root = ET.parse(REPO_ROOT / "docs" / "architecture.svg").getroot()
    assert root.tag == f"{SVG_NS}svg"
    assert int(root.get("width")) == 1000
    titles = [span.text for span in root.iter(f"{SVG_NS}tspan") if span.get("class") == "role"]
    assert titles == [f"{number}. {role}" for number, role in enumerate(site_order(), start=1)]


def test_svg_lists_each_role_resources_and_draws_an_arrow_per_edge():
    texts = "\n".join(svg_texts(REPO_ROOT / "docs" / "architecture.svg"))
    source = yaml.safe_load((REPO_ROOT / "docs" / "architecture" / "stack.yml").read_text())
    for role in source["roles"].values():
        for resource in role["resources"]:
            assert resource["label"].split()[0] in texts
    _roles, edges = render_architecture.load_roles(REPO_ROOT)
    paths = ET.parse(REPO_ROOT / "docs" / "architecture.svg").getroot().iter(f"{SVG_NS}path")
    arrows = [path for path in paths if "edge" in (path.get("class") or "")]
    assert len(arrows) == len(edges) > 0


def test_edges_are_derived_from_the_roles_facts_and_discover_tasks():
    roles, edges = render_architecture.load_roles(REPO_ROOT)
    by_name = {role.name: role for role in roles}
    assert "private_subnet_ids" in by_name["functions"].reads["network"]
    assert by_name["functions"].discovers == ["network", "iam", "storage"]
    assert "vpc_id" in by_name["network"].fact_keys
    pairs = {(edge.source, edge.target): edge for edge in edges}
    assert pairs[("api", "functions")].reads and pairs[("api", "functions")].discover
    assert pairs[("monitoring", "functions")].relations and not pairs[("monitoring", "functions")].reads


def test_dot_has_a_node_per_role_and_the_site_order():
    dot = (REPO_ROOT / "docs" / "architecture.dot").read_text()
    assert dot.count("{") == dot.count("}")
    for role in site_order():
        assert f"  {role} [label=" in dot
    assert " -> ".join(site_order()) + " [style=invis" in dot


def test_markdown_table_links_each_role_page_in_site_order():
    text = (REPO_ROOT / "docs" / "architecture.md").read_text()
    positions = [text.index(f"[`{role}`](roles/{role}.md)") for role in site_order()]
    assert positions == sorted(positions)
    for role in site_order():
        assert (REPO_ROOT / "docs" / "roles" / f"{role}.md").exists()


def test_check_passes_on_a_fresh_copy(repo_copy):
    assert render_architecture.main(["--check", "--root", str(repo_copy)]) == 0


def test_check_fails_when_a_role_is_renamed_in_the_site_playbook(repo_copy, capsys):
    site = repo_copy / "playbooks" / "site.yml"
    site.write_text(site.read_text().replace("serverless.tasks_api.storage", "serverless.tasks_api.datastore"))
    assert render_architecture.main(["--check", "--root", str(repo_copy)]) != 0
    assert "datastore" in capsys.readouterr().err


def test_check_fails_when_a_role_is_renamed_everywhere_but_the_diagram(repo_copy, capsys):
    site = repo_copy / "playbooks" / "site.yml"
    site.write_text(site.read_text().replace("serverless.tasks_api.monitoring", "serverless.tasks_api.alarms"))
    (repo_copy / "roles" / "monitoring").rename(repo_copy / "roles" / "alarms")
    (repo_copy / "roles" / "alarms" / "tasks" / "publish.yml").write_text(
        (repo_copy / "roles" / "alarms" / "tasks" / "publish.yml").read_text().replace("monitoring:", "alarms:")
    )
    source = repo_copy / "docs" / "architecture" / "stack.yml"
    source.write_text(
        source.read_text().replace("  monitoring:", "  alarms:").replace("from: monitoring", "from: alarms")
    )
    assert render_architecture.main(["--check", "--root", str(repo_copy)]) == 1
    assert "docs/architecture.svg" in capsys.readouterr().err
    assert render_architecture.main(["--root", str(repo_copy)]) == 0
    assert any(text.startswith("7. alarms") for text in svg_texts(repo_copy / "docs" / "architecture.svg"))


def test_check_fails_when_the_site_order_changes(repo_copy):
    site = repo_copy / "playbooks" / "site.yml"
    text = site.read_text()
    iam = "    - role: serverless.tasks_api.iam\n      tags: [iam]\n"
    storage = "    - role: serverless.tasks_api.storage\n      tags: [storage]\n"
    assert iam + storage in text
    site.write_text(text.replace(iam + storage, storage + iam))
    assert render_architecture.main(["--check", "--root", str(repo_copy)]) == 1


def test_a_resource_whose_module_the_role_never_calls_is_refused(repo_copy, capsys):
    source = repo_copy / "docs" / "architecture" / "stack.yml"
    source.write_text(
        source.read_text().replace("module: amazon.aws.ec2_vpc_igw", "module: amazon.aws.ec2_transit_gateway")
    )
    assert render_architecture.main(["--check", "--root", str(repo_copy)]) == 2
    assert "amazon.aws.ec2_transit_gateway" in capsys.readouterr().err
