"""Every Python block of the docs runs as written (issue 36): a reader copies it and it works.

Each ```python block of docs/*.md and README.md is executed in a fresh namespace, in a fresh
working directory that holds the files its page says the reader has (a small `fer2013.csv`, an
AffectNet release, a RAVDESS folder, an edge list, a study file and its CSV, a finished run), made
here in their real formats. A block fenced as ```python title="Sketch: ..." shows a pattern that
needs what a test machine lacks (torchrun over NCCL, a CUDA device) and is only compiled.
"""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[1]
FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGES = sorted([*(ROOT / "docs").rglob("*.md"), ROOT / "README.md"])


def blocks():
    found = []
    for page in PAGES:
        for i, match in enumerate(FENCE.finditer(page.read_text())):
            sketch = 'title="Sketch' in match.group(1)
            found.append(pytest.param(page, match.group(2), sketch, id=f"{page.relative_to(ROOT)}:{i + 1}"))
    return found


def sibling(path: str):
    """A test module of this suite, for its writers of real-format files."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / "tests" / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fer2013(where: Path) -> None:
    fer = sibling("data/test_fer2013.py")
    fer.write_fer_csv(where / "fer2013.csv", fer.faces(12), np.arange(12) % 7, fer.USAGES)


def affectnet(where: Path) -> None:
    release = sibling("data/test_affectnet.py")
    (where / "AffectNet").mkdir()
    rows = [release.row(i % 6, i % 7) for i in range(70)]  # ten faces of each of the seven classes
    release.release(where / "AffectNet", rows, [release.row(0, 3), release.row(1, 4)])


def ravdess(where: Path) -> None:
    sibling("data/test_ravdess.py").write_corpus(where / "ravdess", actors=range(1, 25), emotions=(1, 3))


def structure(where: Path) -> None:
    rng = np.random.default_rng(0)
    rows = [f"{pre},{post}" for pre, post in zip(rng.integers(0, 784, 2000), rng.integers(0, 256, 2000))]
    (where / "edges.csv").write_text("pre,post\n" + "\n".join(rows) + "\n")


def study(where: Path) -> None:
    """getting-started's study file as the page shows it, and an expression.csv of three classes."""
    text = (ROOT / "docs" / "getting-started.md").read_text()
    (where / "study.toml").write_text(re.search(r"```toml\n(.*?)```", text, re.DOTALL).group(1))
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(300, 12)), rng.integers(0, 3, 300)
    x[:, 0] += labels
    rows = [",".join(f"{v:.5f}" for v in row) + f",{label}" for row, label in zip(x, labels)]
    header = ",".join(f"gene{i}" for i in range(12))
    (where / "expression.csv").write_text(f"{header},label\n" + "\n".join(rows) + "\n")


def finished_run(where: Path) -> None:
    from biogrn.runs import run

    config = {"pruning": "gene", "training": {"epochs": 2}, "regulator": {"start_epoch": 0}, "model": {"hidden": [16]}}
    run(config, where / "runs" / "study", quiet=True, figures=False)


pytestmark = pytest.mark.filterwarnings(
    # a reader sees the libraries' own deprecation notices as warnings, not errors; biogrn's own
    # warning that a setting cannot do what it asks fails the example
    "ignore::DeprecationWarning",
    "ignore::FutureWarning",
    "ignore::UserWarning",
    "error::biogrn.regulation.UnreachableSettingWarning",
)

FILES = {
    "fer2013.md": fer2013,
    "affectnet.md": affectnet,
    "ravdess.md": ravdess,
    "structure.md": structure,
    "getting-started.md": study,
    "records.md": finished_run,
}


@pytest.mark.parametrize("page, code, sketch", blocks())
def test_the_block_runs_as_written(page, code, sketch, tmp_path, monkeypatch, capsys):
    compiled = compile(code, f"{page.name} (a python block)", "exec")
    if sketch:
        return
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if page.name in FILES:
        FILES[page.name](tmp_path)
    exec(compiled, {"__name__": "__doc_example__"})
    # an example that reports its sparsity must have pruned (the HF example once pruned nothing)
    for value in re.findall(r"sparsity (\d\.\d+)", capsys.readouterr().out):
        assert float(value) > 0, f"{page.name}: the example ends at sparsity {value}"


def test_the_examples_are_found():
    """The fence pattern still matches the docs' blocks: at least the ones this suite was written for."""
    found = blocks()
    assert len(found) >= 19
    assert sum(1 for p in found if p.values[2]) == 2  # the two sketches
