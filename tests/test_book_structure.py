"""Every chapter notebook meets the structure of CHAPTER.md, and every
glossary link and citation in the book resolves.

The checks are plain functions that return a list of problems, so they are
tested on small synthetic notebooks too (they must pass a good one and catch
each kind of bad one), and then run on the real chapters.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
GLOSSARY = BOOK / "appendix" / "glossary.md"
BIB = ROOT / "references.bib"

# The glossary terms agreed by all book authors (chapters link to them with
# {term}`...`); the glossary must define exactly these.
AGREED_TERMS = [
    "recurrent neural network", "sequence", "time step", "hidden state", "initial state",
    "unrolling", "parameter sharing", "Elman network", "Jordan network", "bidirectional RNN",
    "one-to-many", "many-to-one", "many-to-many", "encoder-decoder", "context vector",
    "sliding window", "short-term memory problem", "activation function", "sigmoid", "tanh",
    "ReLU", "softmax", "loss function", "cross-entropy", "mean squared error",
    "backpropagation through time", "truncated backpropagation through time",
    "gradient check", "Jacobian", "vanishing gradient", "exploding gradient",
    "spectral radius", "singular value", "saturation", "loss cliff", "gradient clipping",
    "L1 regularization", "L2 regularization", "learning rate",
    "long short-term memory", "cell state", "forget gate", "input gate", "output gate",
    "gated recurrent unit", "reset gate", "update gate", "batch normalization",
    "layer normalization", "internal covariate shift", "teacher forcing", "exposure bias",
    "beam search", "scheduled sampling", "padding", "masking", "embedding",
]
AGREED_KEYS = {
    "elman1990", "jordan1986", "werbos1990", "williams1989", "williams1990", "bengio1994",
    "hochreiter1997", "gers2000", "schuster1997", "pascanu2013", "cho2014", "sutskever2014",
    "ioffe2015", "bengio2015", "cooijmans2016", "ba2016", "laurent2016", "goodfellow2016",
    "le2015", "karpathy2015", "hochreiter1991",
}
CHAPTER_LABELS = {"01_rnn": "ch-rnn", "02_bptt": "ch-bptt",
                  "03_vanishing_exploding": "ch-vanishing"}
PLAYERS = ("frame_player", "animate_trace", "precomputed_explorer")

# np.random attributes that do not touch global state
_NP_RANDOM_OK = r"default_rng|Generator|SeedSequence|BitGenerator|PCG64DXSM|PCG64|Philox|SFC64|MT19937"
GLOBAL_RANDOM = re.compile(
    rf"\b(?:np|numpy)\.random\.(?!(?:{_NP_RANDOM_OK})\b)\w+"
    rf"|\bfrom\s+numpy\.random\s+import\s+(?!(?:(?:{_NP_RANDOM_OK})\s*(?:,\s*|$))+$).*"
    rf"|\bfrom\s+numpy\s+import\s+(?:.*,\s*)?random\b", re.M)
SYS_PATH_EDIT = re.compile(r"\bsys\.path\s*(?:\.\s*(?:append|insert|extend)\b|\+?=|\[)")
TERM_ROLE = re.compile(r"\{term\}`([^`]+)`")
CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


# --- helpers -----------------------------------------------------------------

def load_nb(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def tags(cell: dict) -> list:
    return cell.get("metadata", {}).get("tags", [])


def chapter_notebooks() -> list[Path]:
    return sorted(p for p in BOOK.glob("[0-9][0-9]_*.ipynb") if int(p.name[:2]) >= 1)


def all_notebooks() -> list[Path]:
    return sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def all_markdown_files() -> list[Path]:
    return sorted(p for p in BOOK.rglob("*.md") if ".ipynb_checkpoints" not in p.parts)


def glossary_terms(text: str) -> list[str]:
    """Terms defined in the {glossary} block: unindented non-empty lines."""
    block = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    return [line.strip() for line in block.splitlines()
            if line.strip() and not line.startswith((" ", "\t", ":"))]


def bib_keys(text: str) -> set[str]:
    return set(re.findall(r"^@\w+\{\s*([^,\s]+)\s*,", text, re.M))


def prose_texts() -> list[tuple[str, str]]:
    """(where, markdown text) for every markdown file and markdown cell."""
    out = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
           for p in all_markdown_files()]
    for nb in all_notebooks():
        for i, cell in enumerate(load_nb(nb)["cells"]):
            if cell["cell_type"] == "markdown":
                out.append((f"{nb.relative_to(ROOT)} cell {i}", src(cell)))
    return out


def term_targets(text: str) -> list[str]:
    out = []
    for body in TERM_ROLE.findall(text):
        m = re.match(r"^(.*?)\s*<([^<>]+)>\s*$", body, re.S)
        out.append((m.group(2) if m else body).strip())
    return out


def cite_keys(text: str) -> list[str]:
    return [k.strip() for body in CITE_ROLE.findall(text) for k in body.split(",") if k.strip()]


# --- the checks ----------------------------------------------------------------

def code_problems(nb: dict) -> list[str]:
    """Global numpy random state or sys.path edits in any code cell."""
    problems = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        code = src(cell)
        for m in GLOBAL_RANDOM.finditer(code):
            problems.append(f"cell {i}: global numpy random state: {m.group(0).strip()!r} "
                            f"(use rng = np.random.default_rng(SEED) and rng methods)")
        if SYS_PATH_EDIT.search(code):
            problems.append(f"cell {i}: edits sys.path (rnnlib is installed; import it)")
    return problems


def chapter_problems(nb: dict, stem: str | None = None) -> list[str]:
    """Everything CHAPTER.md asks of a chapter's structure."""
    problems = []
    cells = nb["cells"]
    md = [src(c) for c in cells if c["cell_type"] == "markdown"]
    code_cells = [c for c in cells if c["cell_type"] == "code"]

    # label + title at the very top
    first = src(cells[0]).strip() if cells else ""
    m = re.match(r"^\(([\w-]+)\)=\s*\n+#\s+\S", first) if cells and cells[0]["cell_type"] == "markdown" else None
    if not m:
        problems.append("first cell must be markdown starting with a label '(ch-xxx)=' and a '# Title'")
    elif stem in CHAPTER_LABELS and m.group(1) != CHAPTER_LABELS[stem]:
        problems.append(f"label is ({m.group(1)})=, expected ({CHAPTER_LABELS[stem]})=")

    if not any(re.search(r"^\s*(?:#+\s*|\*\*)learning goals", t, re.I | re.M) for t in md):
        problems.append("no 'Learning goals' heading")

    first_code = src(code_cells[0]) if code_cells else ""
    if not re.search(r"^\s*(?:import\s+rnnlib|from\s+rnnlib[\w.]*\s+import)", first_code, re.M):
        problems.append("first code cell does not import rnnlib")
    if not re.search(r"\brng\s*=\s*np\.random\.default_rng\(", first_code):
        problems.append("first code cell does not create rng = np.random.default_rng(SEED)")

    all_code = "\n".join(src(c) for c in code_cells)
    if not any(re.search(rf"\b{p}\s*\(", all_code) for p in PLAYERS):
        problems.append(f"no kernel-free player (calls none of {', '.join(PLAYERS)})")

    # exercises: heading, then 3-6 markdown prompts each followed by hide-cell solutions
    start = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                  and re.search(r"^#+\s*Exercises\b", src(c), re.M)), None)
    if start is None:
        problems.append("no 'Exercises' heading")
    else:
        groups, prev = 0, "markdown"
        for i in range(start + 1, len(cells)):
            cell = cells[i]
            if cell["cell_type"] != "code":
                prev = cell["cell_type"]
                continue
            if "hide-cell" not in tags(cell):
                problems.append(f"cell {i}: code cell in the Exercises section without tag hide-cell")
            elif prev == "markdown":
                groups += 1
            prev = "code"
        if not 3 <= groups <= 6:
            problems.append(f"Exercises: {groups} prompt + hidden solution pairs, expected 3 to 6")
    return problems + code_problems(nb)


# --- self-tests of the checks on synthetic notebooks ------------------------------

def _nb(cells):
    return {"cells": [{"cell_type": k, "metadata": {"tags": t} if t else {}, "source": s}
                      for k, s, *rest in cells for t in [rest[0] if rest else []]]}


GOOD_CELLS = [
    ("markdown", "(ch-rnn)=\n# Recurrent neural networks\n\nTwo lines of summary."),
    ("markdown", "## Learning goals\n\n- one"),
    ("code", "import numpy as np\nimport rnnlib\nfrom rnnlib.viz import frame_player\n"
             "rng = np.random.default_rng(0)"),
    ("code", "x = rng.standard_normal((2, 3, 4))\nanimate_trace(cache['trace'])"),
    ("markdown", "## Exercises\n\n1. First."),
    ("code", "assert True", ["hide-cell"]),
    ("markdown", "2. Second."),
    ("code", "assert True", ["hide-cell"]),
    ("code", "assert 2", ["hide-cell"]),
    ("markdown", "3. Third."),
    ("code", "assert True", ["hide-cell"]),
]


def test_checks_pass_a_good_chapter():
    assert chapter_problems(_nb(GOOD_CELLS), "01_rnn") == []


@pytest.mark.parametrize("index,new,expected", [
    (0, ("markdown", "# Title without label"), "label"),
    (0, ("markdown", "(ch-bptt)=\n# Title"), "expected (ch-rnn)="),
    (1, ("markdown", "## Goals"), "Learning goals"),
    (2, ("code", "import numpy as np\nrng = np.random.default_rng(0)"), "import rnnlib"),
    (2, ("code", "import rnnlib\nimport numpy as np\nnp.random.seed(0)"), "default_rng"),
    (3, ("code", "x = np.random.randn(3)"), "np.random.randn"),
    (3, ("code", "from numpy.random import rand"), "global numpy random"),
    (3, ("code", "import sys\nsys.path.append('..')"), "sys.path"),
    (3, ("code", "x = 1"), "kernel-free player"),
    (4, ("markdown", "## Practice"), "Exercises"),
    (5, ("code", "assert True"), "without tag hide-cell"),
    (10, ("markdown", "Only two exercises now."), "expected 3 to 6"),
])
def test_checks_catch_each_problem(index, new, expected):
    cells = list(GOOD_CELLS)
    cells[index] = new
    problems = chapter_problems(_nb(cells), "01_rnn")
    assert any(expected in p for p in problems), problems


def test_checks_allow_generator_names():
    ok = _nb([("code", "rng = np.random.default_rng(np.random.SeedSequence(1))\n"
                       "g: np.random.Generator = rng\nfrom numpy.random import default_rng")])
    assert code_problems(ok) == []


def test_role_parsers():
    text = ("A {term}`hidden state` and {term}`hidden states <hidden state>`; "
            "{cite}`elman1990`, {cite:p}`jordan1986, werbos1990` and {cite:t}`ba2016`.")
    assert term_targets(text) == ["hidden state", "hidden state"]
    assert cite_keys(text) == ["elman1990", "jordan1986", "werbos1990", "ba2016"]


# --- the real book -------------------------------------------------------------------

@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.name)
def test_chapter_structure(path):
    problems = chapter_problems(load_nb(path), path.stem)
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: str(p.relative_to(BOOK)))
def test_no_global_random_state_or_path_edits(path):
    problems = code_problems(load_nb(path))
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_glossary_defines_every_agreed_term_once():
    """The agreed terms stay; chapters may add their own (each defined once)."""
    defined = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    assert len(defined) == len(set(defined)), "a term is defined twice"
    missing = sorted(set(AGREED_TERMS) - set(defined))
    assert not missing, f"agreed glossary terms missing: {missing}"


def test_every_glossary_entry_has_chinese_definition_and_chapter():
    block = GLOSSARY.read_text(encoding="utf-8").split("```{glossary}", 1)[1]
    entries = re.split(r"\n(?=\S)", block.split("\n```", 1)[0].strip())
    entries = [e for e in entries if not e.startswith(":")]
    assert len(entries) == len(glossary_terms(GLOSSARY.read_text(encoding="utf-8")))
    for entry in entries:
        term, _, body = entry.partition("\n")
        assert re.search(r"[\u4e00-\u9fff].* / .*[\u4e00-\u9fff]", body), term
        assert "Introduced in " in body, term
        assert len(body.split("\n")) >= 3, term


def test_every_term_link_is_defined_in_the_glossary():
    # Sphinx matches glossary terms case-insensitively; so do we
    defined = {t.lower() for t in glossary_terms(GLOSSARY.read_text(encoding="utf-8"))}
    missing = [(where, t) for where, text in prose_texts() for t in term_targets(text)
               if t.lower() not in defined]
    assert not missing, f"{{term}} targets not in the glossary: {missing}"


def test_references_bib_has_the_agreed_keys_and_every_cite_resolves():
    """The agreed papers stay in the bibliography; chapters may cite more."""
    keys = bib_keys(BIB.read_text(encoding="utf-8"))
    assert not AGREED_KEYS - keys, f"agreed keys missing: {sorted(AGREED_KEYS - keys)}"
    unknown = [(where, k) for where, text in prose_texts() for k in cite_keys(text)
               if k not in keys]
    assert not unknown, f"{{cite}} keys not in references.bib: {unknown}"


def test_bibliography_directive_only_on_the_bibliography_page():
    pages = [where for where, text in prose_texts() if "{bibliography}" in text]
    assert pages == ["book/appendix/bibliography.md"]


def test_api_reference_documents_every_public_module_once():
    text = (BOOK / "appendix" / "api.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\.\. automodule:: (\S+)", text, re.M)
    assert len(documented) == len(set(documented)), "a module is documented twice"
    modules = set()
    for path in [*(ROOT / "rnnlib").rglob("*.py"), *(ROOT / "rnnbook").rglob("*.py")]:
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        if any(p.startswith("_") for p in parts):
            continue
        modules.add(".".join(parts))
    # a package documented with :imported-members: covers its submodules
    covering = re.findall(r"^\.\. automodule:: (\S+)\n(?:   :[^\n]*\n)*?   :imported-members:", text, re.M)
    covered = {m for m in modules for pkg_name in covering if m.startswith(pkg_name + ".")}
    assert modules - set(documented) - covered == set(), "modules missing from book/appendix/api.md"
    assert set(documented) - modules == set(), "api.md names modules that do not exist"
