"""The READMEs' Python blocks run as printed, so the first hour cannot drift from the code.

Each README's ```python blocks are run in order, in one namespace (a later block may use an earlier one's
names, as a reader typing them into one session does), in a fresh interpreter inside an empty folder.
"""
import ast
import io
import re
import shutil
import subprocess
import tokenize
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
# The project's READMEs and the engine's map; the lesson guides' blocks are fragments of exercises and
# notebook sources, shown to be read, not run.
READMES = [readme for readme in ("README.md", "README.ko.md", "minigrad/README.md", "minigrad/README.ko.md")
           if PYTHON_BLOCK.search((ROOT / readme).read_text(encoding="utf-8"))]


def python_blocks(readme):
    return PYTHON_BLOCK.findall((ROOT / readme).read_text(encoding="utf-8"))


def test_the_block_finder_sees_the_engine_snippet():
    assert {"README.md", "README.ko.md"} <= set(READMES)
    blocks = python_blocks("README.md")
    assert len(blocks) >= 3
    assert any("loss.backward()" in block for block in blocks)


@pytest.mark.parametrize("readme", READMES)
def test_readme_python_blocks_run_as_printed(readme, tmp_path):
    blocks = python_blocks(readme)
    if any(".render(" in block for block in blocks) and shutil.which("dot") is None:
        pytest.skip(f"{readme} draws a graph, which needs Graphviz's dot program (apt/conda/brew install graphviz)")
    script = "\n\n".join(f"# --- block {i + 1} of {readme}\n{block}" for i, block in enumerate(blocks))
    (tmp_path / "readme_blocks.py").write_text(script, encoding="utf-8")
    done = subprocess.run([sys.executable, "readme_blocks.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                            "MPLBACKEND": "Agg", "HOME": str(tmp_path)})
    assert done.returncode == 0, f"{readme}'s Python blocks fail:\n{done.stderr[-3000:]}"


def code_lines(source):
    """The number of lines holding code: blank lines, comments and docstrings do not count."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def test_code_lines_counts_code_only():
    source = '"""Module docstring."""\n\n# a comment\ndef f(x):\n    """Doc\n    string."""\n    return (x +\n            1)  # why\n'
    assert code_lines(source) == 3


@pytest.mark.parametrize("readme, claim", [("README.md", r"about ([\d,]+) lines of Python\s+code"),
                                           ("README.ko.md", r"파이썬 코드 약 ([\d,]+)줄")])
def test_the_readmes_line_count_is_minigrads(readme, claim):
    claimed = int(re.search(claim, (ROOT / readme).read_text(encoding="utf-8")).group(1).replace(",", ""))
    counted = sum(code_lines(path.read_text(encoding="utf-8")) for path in (ROOT / "minigrad").rglob("*.py"))
    assert abs(counted - claimed) <= 0.1 * claimed, f"{readme} says about {claimed} lines; minigrad/ has {counted}"
