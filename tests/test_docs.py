"""The docs cannot rot: their Python snippets run, the generated references are current,
and their relative links resolve.

Snippets run page by page, each page in a fresh interpreter (so one page's settings,
caches and temp files never leak into another's, nor into this test process), in a
temporary ``GENPERSONA_HOME`` with the fake LLM and the fake embedder. Blocks of one page
share their names, like notebook cells. ``<!-- docs-test: skip -->`` on the line before a
fence skips that block (it needs the real data, a server or placeholders).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SKIP_MARK = "<!-- docs-test: skip -->"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>```+|~~~+)\s*(?P<info>[^\n`]*)$")

sys.path.insert(0, str(ROOT / "scripts"))
import gen_docs  # noqa: E402 - the generator lives in scripts/, not in the package


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of every ```python block not marked to skip."""
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, ticks = m["indent"], m["ticks"]
        lang = m["info"].strip().split()[0].lstrip(".").lower() if m["info"].strip() else ""
        skipped = i > 0 and lines[i - 1].strip() == SKIP_MARK
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(ticks):
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line)
            i += 1
        i += 1
        if lang in {"python", "py"} and not skipped:
            blocks.append((start + 1, "\n".join(body) + "\n"))
    return blocks


def doc_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


PAGES_WITH_CODE = [p for p in doc_pages() if python_blocks(p.read_text(encoding="utf-8"))]

RUNNER = """
import json, sys
blocks = json.loads(sys.stdin.read())
namespace = {"__name__": "__docs__"}
for where, code in blocks:
    exec(compile(code, where, "exec"), namespace)
"""


def test_parser_finds_blocks_and_honours_the_skip_mark() -> None:
    text = (
        "intro\n```python\nx = 1\n```\n"
        f"{SKIP_MARK}\n```python\nraise SystemExit(1)\n```\n"
        "```bash\nls\n```\n- item\n\n    ```python\n    y = 2\n    ```\n"
    )
    assert python_blocks(text) == [(3, "x = 1\n"), (15, "y = 2\n")]


def test_some_pages_have_executed_snippets() -> None:
    """A guard against a parser change that silently finds nothing to run."""
    names = {p.relative_to(ROOT).as_posix() for p in PAGES_WITH_CODE}
    assert {"docs/guides/getting-started.md", "docs/guides/brands-and-guardrails.md"} <= names


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_snippets_run(page: Path, tmp_path: Path) -> None:
    rel = page.relative_to(ROOT).as_posix()
    blocks = [(f"{rel}:{line}", code) for line, code in python_blocks(page.read_text("utf-8"))]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENPERSONA_")}
    env.update(
        GENPERSONA_HOME=str(tmp_path / "home"),
        GENPERSONA_LLM="fake",
        GENPERSONA_EMBEDDER="fake",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    done = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(blocks),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"a python snippet in {rel} failed (the traceback names page:line; fix the snippet, "
        f"or mark it with {SKIP_MARK!r} if it cannot run on the fakes):\n{done.stderr[-4000:]}"
    )


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    return gen_docs.outputs()


@pytest.mark.parametrize("name", ["cli.md", "api.md", "openapi.json", "settings.md"])
def test_reference_is_current(name: str, generated: dict[Path, str]) -> None:
    path = gen_docs.REFERENCE / name
    assert path in generated
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    assert current == generated[path], (
        f"docs/reference/{name} is stale: the code changed since it was generated. "
        "Run `make docs` (or `python scripts/gen_docs.py`) and commit the result."
    )


def test_cli_reference_lists_every_command(generated: dict[Path, str]) -> None:
    text = generated[gen_docs.REFERENCE / "cli.md"]
    for command in ("doctor", "guard", "generate", "brand check", "customer export", "serve"):
        assert f"## `genpersona {command}`" in text


def test_api_reference_lists_every_route(generated: dict[Path, str]) -> None:
    schema = json.loads(generated[gen_docs.REFERENCE / "openapi.json"])
    page = generated[gen_docs.REFERENCE / "api.md"]
    for path, ops in schema["paths"].items():
        for method in ops:
            assert f"## `{method.upper()} {path}`" in page


LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def test_relative_links_resolve() -> None:
    broken = []
    for page in doc_pages():
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0]
            if path and not (page.parent / path).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, "relative links to missing files:\n" + "\n".join(broken)
