"""Build the course notebooks from their sources: one English and one Korean notebook per source.

    python -m lessons.notebooks.build           # write every NN_name.ipynb and NN_name.ko.ipynb
    python -m lessons.notebooks.build --check   # write nothing; exit 1 naming each notebook out of date

A source ``NN_name.py`` is a notebook in jupytext's percent format: ``# %%``
starts a code cell, ``# %% [markdown] lang="en"`` (or ``lang="ko"``) a prose
cell in one language. Code cells carry no language and go into both
notebooks unchanged, so the two can never run different code. The notebooks
are written without outputs or execution counts, with cell ids numbered from
the source, so building twice gives the same bytes.
"""
import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).parent
LANGUAGES = {"en": ".ipynb", "ko": ".ko.ipynb"}  # language -> the notebook's file suffix
FORMAT = {"extension": ".py", "format_name": "percent",
          "comment_magics": False}  # "# !pip install" stays a comment, for the learner to uncomment
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def sources():
    """Every notebook source in this folder, in course order."""
    return sorted(HERE.glob("[0-9][0-9]_*.py"))


def notebook_path(source, language):
    """lessons/notebooks/02_textbook_autoencoder.py, 'ko' -> .../02_textbook_autoencoder.ko.ipynb"""
    return Path(source).with_suffix(LANGUAGES[language])


def build(source, language):
    """The notebook of ``source`` in ``language``: its code cells and that language's prose cells."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: the notebooks are built in {sorted(LANGUAGES)}")
    source = Path(source)
    whole = jupytext.reads(source.read_text(encoding="utf-8"), fmt=FORMAT)
    cells = []
    for cell in whole.cells:
        cell_language = cell.metadata.get("lang")
        if cell.cell_type == "code" and cell_language is not None:
            raise ValueError(f"{source.name}: a code cell tagged lang={cell_language!r}; code cells are shared by "
                             f"every language, so that the notebooks never run different code:\n{cell.source}")
        if cell.cell_type == "markdown" and cell_language not in LANGUAGES:
            raise ValueError(f"{source.name}: a markdown cell needs lang= one of {sorted(LANGUAGES)}, "
                             f"got {cell_language!r}:\n{cell.source}")
        if cell_language in (None, language):
            cells.append(cell)
    notebook = nbformat.v4.new_notebook(metadata=METADATA)
    for number, cell in enumerate(cells):
        make = nbformat.v4.new_code_cell if cell.cell_type == "code" else nbformat.v4.new_markdown_cell
        notebook.cells.append(make(cell.source, id=f"cell-{number:02d}"))
    return notebook


def notebook_text(source, language):
    """The bytes of the built notebook's file, as a string."""
    return nbformat.writes(build(source, language)) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lessons.notebooks.build", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook differs from what its source builds")
    args = parser.parse_args(argv)
    stale = []
    for source in sources():
        for language in LANGUAGES:
            path, text = notebook_path(source, language), notebook_text(source, language)
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                continue
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path.relative_to(HERE.parents[1])}")
    if args.check and stale:
        print("out of date (rebuild with python -m lessons.notebooks.build):\n  "
              + "\n  ".join(str(path.relative_to(HERE.parents[1])) for path in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
