"""The tier rule of docs/architecture.md, checked on the source: imports only go downwards.

Every module under ``src/rnncast`` is parsed with :mod:`ast`; every import in it
(module level, inside functions, under ``if TYPE_CHECKING``; ``import x``,
``from x import y``, ``from rnncast import evaluate``, relative imports) is
mapped to the tier of the module it names. A module may import from its own
tier or a lower one, never from a higher one, and never from the sibling lane
of its own tier (``models``/``saving``/``interop`` work on arrays,
``data``/``datasets`` on frames; neither knows the other).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "rnncast"

# Tiers, lowest first (docs/architecture.md, "Tiers"). The value is (level, lane):
# a module may import from a lower level, or from the same level and the same lane.
TIERS: dict[str, tuple[int, str]] = {
    "_internal": (0, ""),
    "exceptions": (0, ""),  # imports nothing; _internal's checks raise its errors
    "utils": (1, ""),
    "backend": (1, ""),  # keras.backend: clear_session, get_uid, floatx
    "regularizers": (1, ""),  # keras.regularizers: penalties the layers add to the loss
    "constraints": (1, ""),  # keras.constraints: projections after each optimizer step
    "layers": (1, ""),
    "optimizers": (1, ""),
    "losses": (1, ""),
    "metrics": (1, ""),
    "callbacks": (1, ""),
    "mixed_precision": (1, ""),  # keras.mixed_precision: dtype policies that compile reads
    "models": (2, "arrays"),
    "saving": (2, "arrays"),
    "interop": (2, "arrays"),
    "data": (2, "frames"),
    "datasets": (2, "frames"),
    "evaluate": (3, ""),
    "forecasting": (4, ""),
    # The package root is the public facade over the tiers below it: the CLI
    # may use it as a user does (``import rnncast as rc``); nothing below may.
    "": (5, ""),
    "cli": (6, ""),
    "__main__": (6, ""),
}

# Known violations in the current code, each with its reason. An entry here is
# a debt to pay, not a licence: remove it once the import is gone (the test
# fails on entries that no longer match anything, so the list cannot go stale).
ALLOWED: dict[tuple[str, str], str] = {}

MAX_TOP_LEVEL_MODULES = 14
SUFFIXES = ("ings", "ing", "ers", "er", "es", "s")


def module_name(path: Path) -> str:
    """``src/rnncast/data/split.py`` -> ``rnncast.data.split``; a package is its ``__init__``."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Every ``rnncast`` module that ``source`` imports, at any depth of the syntax tree.

    ``from rnncast import evaluate`` names the submodule ``rnncast.evaluate``;
    ``from rnncast import Forecaster`` names the package root ``rnncast``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: climb level - 1 packages from this one
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {_known_module(name) for name in found if name.split(".")[0] == "rnncast"}


def _known_module(dotted: str) -> str:
    """The longest prefix of ``dotted`` that is a module or package in ``src``."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = SRC.joinpath(*parts[:end])
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return ".".join(parts[:end])
    return dotted


def tier_of(module: str) -> tuple[int, str]:
    """The (level, lane) of a module, from its first name below ``rnncast``."""
    top = module.split(".")[1] if "." in module else ""
    if top not in TIERS:
        raise AssertionError(
            f"{module} has no tier: add {top!r} to TIERS in tests/test_architecture.py "
            "and to the tier list in docs/architecture.md"
        )
    return TIERS[top]


def describe(module: str) -> str:
    level, lane = tier_of(module)
    top = module.split(".")[1] if "." in module else "rnncast (root)"
    return f"tier {level} {top}" + (f" [{lane}]" if lane else "")


def violations(graph: dict[str, set[str]]) -> dict[tuple[str, str], str]:
    """``(importer, imported) -> "tier a > tier b"`` for every import against the rule."""
    found = {}
    for importer, targets in graph.items():
        low = tier_of(importer)
        for target in sorted(targets):
            high = tier_of(target)
            if high[0] > low[0] or (high[0] == low[0] and high[1] != low[1]):
                relation = ">" if high[0] > low[0] else "beside"
                found[importer, target] = f"{describe(target)} {relation} {describe(importer)}"
    return found


def import_graph() -> dict[str, set[str]]:
    """Each module of the package -> the rnncast modules it imports (the root excepted)."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if name != "rnncast":
            text = path.read_text(encoding="utf-8")
            graph[name] = imported_modules(text, name, path.name == "__init__.py")
    return graph


def _format(found: dict[tuple[str, str], str]) -> str:
    return "\n".join(f"  {a} -> {b} ({why})" for (a, b), why in sorted(found.items()))


def test_no_module_imports_from_a_higher_tier():
    found = violations(import_graph())
    new = {pair: why for pair, why in found.items() if pair not in ALLOWED}
    assert not new, "imports against the tier rule (docs/architecture.md):\n" + _format(new)


def test_allow_list_has_no_stale_entries():
    found = violations(import_graph())
    stale = sorted(pair for pair in ALLOWED if pair not in found)
    assert not stale, f"ALLOWED entries that no longer occur; delete them: {stale}"


def test_every_module_has_a_tier():
    for module in import_graph():
        tier_of(module)  # raises with the fix when a new top-level name appears


def test_at_most_fourteen_top_level_modules():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, (
        f"{len(modules)} .py modules at the top of src/rnncast (at most "
        f"{MAX_TOP_LEVEL_MODULES}): {modules}; move one into the package of its tier"
    )


def name_key(name: str) -> str:
    """A top-level name without leading/trailing underscores and a suffix like -ing/-er/-s."""
    stem = name.strip("_")
    for suffix in SUFFIXES:
        if stem.endswith(suffix) and len(stem) - len(suffix) >= 3:
            return stem[: -len(suffix)]
    return stem


def test_no_two_top_level_names_differ_only_by_underscore_or_suffix():
    names = [p.stem for p in PACKAGE.glob("*.py")]
    names += [p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()]
    groups: dict[str, list[str]] = {}
    for name in sorted(names):
        groups.setdefault(name_key(name), []).append(name)
    clashes = [group for group in groups.values() if len(group) > 1]
    assert not clashes, f"top-level names that differ only by '_' or a suffix: {clashes}"


def documented_modules(page: str) -> set[str]:
    """The ``.py`` paths in the "## Layout" tree; a listed ``pkg/`` stands for its ``__init__``."""
    tree = page.split("## Layout", 1)[1].split("```", 2)[1]
    stack: list[str] = []
    found: set[str] = set()
    for line in tree.splitlines():
        match = re.match(r"^( *)(\S+)", line)
        if not match or not match.group(2).endswith(("/", ".py")):
            continue  # a description continued on the next line
        depth, name = len(match.group(1)) // 2, match.group(2)
        stack[depth:] = [name.rstrip("/")]
        path = "/".join(stack[1:])
        if path:  # depth 0 is src/rnncast/ itself
            found.add(f"{path}/__init__.py" if name.endswith("/") else path)
    return found


def test_architecture_page_lists_every_module():
    page = (SRC.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    actual = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    documented = documented_modules(page)
    assert actual == documented, (
        "docs/architecture.md's Layout tree is out of date: "
        f"missing {sorted(actual - documented)}, gone {sorted(documented - actual)}"
    )


# The checker itself, on hand-written sources with known answers.


def test_imports_found_at_every_depth_and_in_every_form():
    source = (
        "import numpy\n"
        "import rnncast.data.split as split\n"
        "from rnncast import evaluate, Forecaster\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from rnncast.models.sequential import Sequential\n"
        "def f():\n"
        "    from rnncast.cli.config import load_config\n"
        "    class C:\n"
        "        def g(self):\n"
        "            import rnncast.saving\n"
        "from . import calendar\n"
        "from ..layers.core import Dense\n"
    )
    got = imported_modules(source, "rnncast.data.windowizer", is_package=False)
    assert got == {
        "rnncast.data.split",
        "rnncast.evaluate",
        "rnncast",  # Forecaster is a name of the package root
        "rnncast.models.sequential",
        "rnncast.cli.config",
        "rnncast.saving",
        "rnncast.data.calendar",
        "rnncast.layers.core",
    }


def test_relative_import_in_a_package_init_is_resolved_from_the_package():
    got = imported_modules("from .split import x\n", "rnncast.data", is_package=True)
    assert got == {"rnncast.data.split"}


def test_violations_name_both_modules_and_tiers():
    graph = {
        "rnncast.data.windowizer": {"rnncast.forecasting.forecaster", "rnncast._internal.checks"},
        "rnncast.models.sequential": {"rnncast.data.windows", "rnncast.saving"},
        "rnncast.cli.main": {"rnncast.evaluate", "rnncast"},
        "rnncast.evaluate.scores": {"rnncast"},
    }
    text = _format(violations(graph))
    assert text.splitlines() == [
        "  rnncast.data.windowizer -> rnncast.forecasting.forecaster "
        "(tier 4 forecasting > tier 2 data [frames])",
        "  rnncast.evaluate.scores -> rnncast (tier 5 rnncast (root) > tier 3 evaluate)",
        "  rnncast.models.sequential -> rnncast.data.windows "
        "(tier 2 data [frames] beside tier 2 models [arrays])",
    ]


@pytest.mark.parametrize(
    ("names", "clash"),
    [
        (["trainer", "training"], True),
        (["report", "_report"], True),
        (["model", "models"], True),
        (["losses", "metrics", "saving", "data", "datasets"], False),
    ],
)
def test_name_key_catches_near_duplicates(names, clash):
    assert (len({name_key(n) for n in names}) < len(names)) is clash


def test_documented_modules_follow_the_indentation():
    tree = ["src/rnncast/", "  a.py   x", "         more", "  pkg/   y", "    b.py", "  c.py"]
    page = "## Layout\n```\n" + "\n".join(tree) + "\n```\n"
    assert documented_modules(page) == {"a.py", "pkg/__init__.py", "pkg/b.py", "c.py"}


def test_unknown_top_level_name_asks_for_a_tier():
    with pytest.raises(AssertionError, match=re.escape("add 'plugins' to TIERS")):
        tier_of("rnncast.plugins.x")
