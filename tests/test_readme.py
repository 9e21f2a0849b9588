"""The READMEs' Python blocks run as printed, so the first hour cannot drift from the code.

Each README's ```python blocks are run in order, in one namespace (a later block may use an earlier one's
names, as a reader typing them into one session does), in a fresh interpreter inside an empty folder.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READMES = ["README.md", "README.ko.md", "minigrad/README.md", "minigrad/README.ko.md"]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(readme):
    return PYTHON_BLOCK.findall((ROOT / readme).read_text(encoding="utf-8"))


def test_the_block_finder_sees_the_engine_snippet():
    blocks = python_blocks("README.md")
    assert len(blocks) >= 3
    assert any("loss.backward()" in block for block in blocks)


@pytest.mark.parametrize("readme", READMES)
def test_readme_python_blocks_run_as_printed(readme, tmp_path):
    if not (ROOT / readme).exists():
        pytest.skip(f"{readme} does not exist")
    blocks = python_blocks(readme)
    if not blocks:
        pytest.skip(f"{readme} has no Python block")
    script = "\n\n".join(f"# --- block {i + 1} of {readme}\n{block}" for i, block in enumerate(blocks))
    (tmp_path / "readme_blocks.py").write_text(script, encoding="utf-8")
    done = subprocess.run([sys.executable, "readme_blocks.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                            "MPLBACKEND": "Agg", "HOME": str(tmp_path)})
    assert done.returncode == 0, f"{readme}'s Python blocks fail:\n{done.stderr[-3000:]}"
