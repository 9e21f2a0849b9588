"""The course notebooks (lessons/notebooks/): in sync with their sources, stripped, paired, and each one runs.

Every notebook executes top to bottom under nbclient in both languages, on the tiny run its first cell picks
when MINIGRAD_NOTEBOOK_QUICK=1 (a few hundred samples, one epoch), with its figures written under tmp_path
(MINIGRAD_NOTEBOOK_OUT).
"""
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lessons.notebooks import build

NOTEBOOKS = build.HERE
SOURCES = build.sources()
PAIRS = [(source, language) for source in SOURCES for language in build.LANGUAGES]
IDS = [f"{source.stem}-{language}" for source, language in PAIRS]
# The datasets each notebook reads: without their four files (in $MINIGRAD_DATA or the user cache) its run is
# skipped.
DATASETS = {"01_backprop_by_hand": "mnist", "02_textbook_autoencoder": "mnist",
            "03_conv_denoising_autoencoder": "fashion-mnist", "04_vae": "mnist", "05_dcgan": "mnist"}
HANGUL = re.compile("[\uac00-\ud7a3]")


def committed(source, language):
    return nbformat.read(build.notebook_path(source, language), as_version=4)


def test_the_course_has_its_seven_notebooks():
    assert [source.stem for source in SOURCES] == [
        "00_engine_tour", "01_backprop_by_hand", "02_textbook_autoencoder", "03_conv_denoising_autoencoder",
        "04_vae", "05_dcgan", "06_exercises"]


@pytest.mark.parametrize("source, language", PAIRS, ids=IDS)
def test_each_notebook_is_what_its_source_builds(source, language):
    path = build.notebook_path(source, language)
    assert path.read_text(encoding="utf-8") == build.notebook_text(source, language), (
        f"{path.name} is out of date: run python -m lessons.notebooks.build")


def test_build_check_passes_on_the_committed_notebooks_and_names_a_stale_one(tmp_path, monkeypatch, capsys):
    assert build.main(["--check"]) == 0
    source = tmp_path / "99_x.py"
    source.write_text('# %% [markdown] lang="en"\n# Hello\n\n# %% [markdown] lang="ko"\n# 안녕\n')
    monkeypatch.setattr(build, "sources", lambda: [source])
    monkeypatch.setattr(build, "HERE", tmp_path / "lessons" / "notebooks")  # paths are printed from the root
    assert build.main(["--check"]) == 1 and not list(tmp_path.glob("*.ipynb"))
    assert "99_x.ipynb" in capsys.readouterr().out
    assert build.main([]) == 0 and sorted(p.name for p in tmp_path.glob("*.ipynb")) == ["99_x.ipynb", "99_x.ko.ipynb"]
    assert build.main(["--check"]) == 0


def test_every_notebook_file_comes_from_a_source():
    built = {build.notebook_path(source, language).name for source, language in PAIRS}
    assert sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")) == sorted(built)


@pytest.mark.parametrize("source, language", PAIRS, ids=IDS)
def test_committed_notebooks_hold_no_outputs(source, language):
    for cell in committed(source, language).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


@pytest.mark.parametrize("source", SOURCES, ids=[source.stem for source in SOURCES])
def test_both_languages_run_the_same_code_and_say_everything(source):
    english, korean = committed(source, "en"), committed(source, "ko")
    assert [c.source for c in english.cells if c.cell_type == "code"] == \
           [c.source for c in korean.cells if c.cell_type == "code"]
    # each prose cell has its translation in the same place: the cells line up kind by kind
    assert [c.cell_type for c in english.cells] == [c.cell_type for c in korean.cells]
    for en, ko in zip(english.cells, korean.cells):
        if en.cell_type == "markdown":
            assert HANGUL.search(ko.source), f"not translated: {ko.source[:80]}"
            assert not HANGUL.search(en.source), f"Korean in the English notebook: {en.source[:80]}"


@pytest.mark.parametrize("source", SOURCES, ids=[source.stem for source in SOURCES])
def test_the_first_code_cell_says_how_to_set_up(source):
    first = next(c.source for c in committed(source, "en").cells if c.cell_type == "code")
    assert "# !git clone" in first and "pip install" in first   # a fresh Colab: commented, for the learner
    assert "MINIGRAD_NOTEBOOK_QUICK" in first and "DEVICE = " in first
    assert "ROOT = Path.cwd().parents[1]" in first   # `import lessons` works from the notebook's folder
    if source.stem in DATASETS:
        assert 'os.environ["MINIGRAD_DATA"]' in first


def test_build_refuses_a_code_cell_in_one_language_and_prose_in_none(tmp_path):
    source = tmp_path / "99_x.py"
    source.write_text('# %% lang="ko"\nprint(1)\n')
    with pytest.raises(ValueError, match="code cell tagged lang='ko'"):
        build.build(source, "en")
    source.write_text("# %% [markdown]\n# hello\n")
    with pytest.raises(ValueError, match="markdown cell needs lang="):
        build.build(source, "en")


def test_build_keeps_shared_code_and_one_language_of_prose(tmp_path):
    source = tmp_path / "99_x.py"
    source.write_text('# %% [markdown] lang="en"\n# Hello\n\n# %% [markdown] lang="ko"\n# 안녕\n\n'
                      '# %%\n# !pip install minigrad\nprint(1)\n')
    for language, prose in (("en", "Hello"), ("ko", "안녕")):
        notebook = build.build(source, language)
        assert [(c.cell_type, c.source) for c in notebook.cells] == [
            ("markdown", prose), ("code", "# !pip install minigrad\nprint(1)")]
        assert [c.id for c in notebook.cells] == ["cell-00", "cell-01"]
        assert all(c.metadata == {} for c in notebook.cells)   # the lang tag stays in the source


def datasets_missing(name):
    """Why the notebook cannot find its dataset here, or None."""
    folder = DATASETS.get(name)
    if folder is None:
        return None
    places = [Path(os.environ["MINIGRAD_DATA"]) / folder] if os.environ.get("MINIGRAD_DATA") else []
    places.append(Path.home() / ".cache" / "minigrad" / folder)
    files = [f"{split}-{kind}-idx{rank}-ubyte.gz" for split in ("train", "t10k")
             for kind, rank in (("images", 3), ("labels", 1))]
    if any(all((place / file).is_file() for file in files) for place in places):
        return None
    return f"{name} reads {folder}/, whose files are neither in $MINIGRAD_DATA nor in ~/.cache/minigrad"


@pytest.mark.skipif(shutil.which("dot") is None, reason="the notebooks draw graphs with Graphviz's dot")
@pytest.mark.parametrize("source, language", PAIRS, ids=IDS)
def test_each_notebook_runs_top_to_bottom(source, language, tmp_path, monkeypatch):
    missing = datasets_missing(source.stem)
    if missing:
        pytest.skip(missing)
    monkeypatch.setenv("MINIGRAD_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("MINIGRAD_NOTEBOOK_OUT", str(tmp_path))
    notebook = committed(source, language)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()   # raises at a failing cell
    shown = [kind for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
             for kind in output.get("data", {})]
    assert "image/svg+xml" in shown, "no graph drawn inline"
    assert "image/png" in shown, "no figure shown inline"
    if source.stem != "06_exercises":   # the exercises' notebook shows the guide's figure and saves none
        assert list(tmp_path.rglob("*.png")), "no figure saved"
