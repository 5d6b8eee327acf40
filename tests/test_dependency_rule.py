"""The dependency rule, read from the source with ``ast``: ``domain/`` imports the standard library
and itself only, and never reads the clock (time comes in as an argument or an injected clock)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[1] / "domain"

# Named in the design: the frameworks and our outer layers.
FORBIDDEN = frozenset(
    {
        "pymongo",
        "bson",
        "motor",
        "beanie",
        "strawberry",
        "starlette",
        "broadcaster",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "api",
        "persistence",
    }
)
ALLOWED = frozenset(sys.stdlib_module_names) | {"__future__", "domain"}
CLOCK_READS = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
    }
)


def imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, absolute module) for every import, including dynamic ones with a literal name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and _callee(node.func) in {"__import__", "import_module"}:
            first = node.args[0] if node.args else None
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            yield node.lineno, first.value if literal else "<computed module name>"


def clock_reads(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, qualified name) for every reference to a clock-reading function, called or not,
    however it was imported (``import datetime as dt``, ``from time import time``, …)."""
    names: dict[str, str] = {}  # local name -> what it was imported as
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                names[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                qualified = f"{node.module}.{alias.name}"
                names[alias.asname or alias.name] = qualified
                if qualified in CLOCK_READS:
                    yield node.lineno, qualified
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            qualified = _qualified(node, names)
            if qualified in CLOCK_READS:
                yield node.lineno, qualified


def _qualified(node: ast.expr, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return names.get(node.id)  # only imported names: a local ``time`` is not the module
    if isinstance(node, ast.Attribute):
        base = _qualified(node.value, names)
        return f"{base}.{node.attr}" if base else None
    return None


def _callee(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def violations(source: str, filename: str = "<snippet>") -> list[str]:
    tree = ast.parse(source, filename)
    found = []
    for line, module in imports(tree):
        top = module.split(".")[0]
        if top in FORBIDDEN:
            found.append(f"{filename}:{line}: imports {module} (a framework or an outer layer)")
        elif top not in ALLOWED:
            found.append(f"{filename}:{line}: imports {module} (not the standard library)")
    found += [f"{filename}:{line}: reads the clock with {name}" for line, name in clock_reads(tree)]
    return found


def domain_modules() -> list[Path]:
    return sorted(DOMAIN.rglob("*.py"))


def test_domain_depends_on_the_standard_library_only_and_never_reads_the_clock() -> None:
    modules = domain_modules()
    assert len(modules) > 1, f"no domain modules found under {DOMAIN}"

    found = [
        violation
        for path in modules
        for violation in violations(path.read_text(), str(path.relative_to(DOMAIN.parent)))
    ]

    assert found == [], "domain/ breaks the dependency rule:\n" + "\n".join(found)


# The rule itself: each snippet below must be caught, and the fine ones let through, so that an
# empty list above means something.


@pytest.mark.parametrize(
    "source",
    [
        "import pymongo",
        "from pymongo.errors import PyMongoError",
        "import bson.objectid",
        "from beanie import Document",
        "import strawberry as sb",
        "from starlette.requests import Request",
        "from broadcaster import Broadcast",
        "import motor.motor_asyncio",
        "from pydantic import BaseModel",
        "import api.app",
        "from persistence import documents",
        "import yaml",
        "def load():\n    import pymongo",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from beanie import Document",
        "__import__('pymongo')",
        "import importlib\nimportlib.import_module('persistence.seed')",
        "import importlib\nname = 'api'\nimportlib.import_module(name)",
    ],
)
def test_the_rule_catches_a_forbidden_import(source: str) -> None:
    assert len(violations(source)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime\nstamp = datetime.now()",
        "from datetime import datetime, UTC\nstamp = datetime.now(UTC)",
        "from datetime import datetime as dt\nstamp = dt.utcnow()",
        "import datetime\nstamp = datetime.datetime.now()",
        "import datetime as d\nday = d.date.today()",
        "from datetime import date\nday = date.today()",
        "import time\nstamp = time.time()",
        "import time as t\nstamp = t.time_ns()",
        "from dataclasses import field\nfrom datetime import datetime\n"
        "stamp = field(default_factory=datetime.now)",
        "from time import time",
    ],
)
def test_the_rule_catches_a_clock_read(source: str) -> None:
    found = violations(source)
    assert len(found) == 1
    assert "reads the clock" in found[0]


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations",
        "from dataclasses import dataclass\nfrom enum import StrEnum\nimport re, uuid",
        "from datetime import UTC, datetime, timedelta\nwhen = datetime.fromisoformat(text)",
        "from domain.ports import Clock\ndef at(clock: Clock):\n    return clock.now()",
        "from . import errors\nfrom ..identity import Role",
        "import time\ntime.sleep(0)",
        "def f(time):\n    return time.time()",
    ],
)
def test_the_rule_lets_pure_standard_library_code_through(source: str) -> None:
    assert violations(source) == []
