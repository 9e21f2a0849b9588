"""``python -m lessons``: list every lesson with its one-line description."""
import ast
from pathlib import Path

# Modules of this package that are not lessons.
NOT_LESSONS = {"common", "__main__", "__init__", "vgg_weights"}
# The course, in the order of the README's lesson table (tests/test_lessons_menu.py holds the two together):
# lesson 0 shows how the engine every later lesson calls works.
COURSE = ("engine_tour", "manual_backprop", "textbook_autoencoder", "fashion_autoencoder", "deep_autoencoder",
          "denoising_autoencoder", "conv_denoising_autoencoder", "sparse_autoencoder", "contractive_autoencoder",
          "ecg_anomaly", "autoencoder_vs_pca", "latent_clustering", "classifier", "vae", "conv_vae", "gan", "dcgan",
          "wgan_gp", "style_transfer")


def course_position(name):
    """Where a lesson comes in the course; one the course does not list yet comes after it, by name."""
    return (COURSE.index(name), "") if name in COURSE else (len(COURSE), name)


def discover(folder=Path(__file__).parent):
    """(name, first docstring line) of each lesson module in ``folder``, in course order (``COURSE``).

    The docstring is read from the source: importing every lesson would load
    minigrad, matplotlib and each lesson's models only to print one line
    apiece (seconds, where reading the files takes milliseconds). Private
    modules (``_*.py``) and subpackages (``exercises``) are not lessons.
    """
    lessons = []
    for path in sorted(Path(folder).glob("*.py"), key=lambda path: course_position(path.stem)):
        if path.stem in NOT_LESSONS or path.stem.startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        lessons.append((path.stem, doc.strip().splitlines()[0] if doc and doc.strip() else "(no description)"))
    return lessons


def main():
    lessons = discover()
    if not lessons:
        print("No lessons yet.")
        return
    width = max(len(name) for name, _ in lessons)
    print("Lessons (run one with: python -m lessons.NAME, see its flags with --help):\n")
    for name, description in lessons:
        print(f"  {name:<{width}}  {description}")


if __name__ == "__main__":
    main()
