"""The layout's promise, checked on the source: only :mod:`rapport.store` writes
rapport's tables (and the migrations, which create them).

Other modules ask the store; a write anywhere else would be a second owner of a table's
SQL. The check reads each module's syntax tree for SQLAlchemy's ``insert``, ``update``
and ``delete`` constructs, ORM ``session.add``/``session.delete``/``session.merge``,
and SQL text that writes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import rapport

PACKAGE = Path(rapport.__file__).parent
#: Where writes belong: the store, and the migrations that build the schema.
OWNERS = ("store", "migrations")
WRITE_CONSTRUCTS = frozenset({"insert", "update", "delete"})
SESSION_WRITES = frozenset({"add", "add_all", "delete", "merge"})
WRITING_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def _modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in OWNERS
    ]


def _sqlalchemy_names(tree: ast.Module) -> set[str]:
    """The local names bound to SQLAlchemy's write constructs by ``from sqlalchemy
    import ...``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            names.update(
                alias.asname or alias.name for alias in node.names if alias.name in WRITE_CONSTRUCTS
            )
    return names


def writes_in(source: str) -> list[str]:
    """Each write to the database the source makes, as ``line: what``."""
    tree = ast.parse(source)
    constructs = _sqlalchemy_names(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name) and function.id in constructs:
                found.append((node.lineno, f"{function.id}()"))
            elif (
                isinstance(function, ast.Attribute)
                and function.attr in SESSION_WRITES
                and "session" in ast.unparse(function.value).lower()
            ) or (
                isinstance(function, ast.Attribute)
                and function.attr in WRITE_CONSTRUCTS
                and ast.unparse(function.value) in {"sqlalchemy", "sa"}
            ):
                found.append((node.lineno, f"{ast.unparse(function)}()"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and WRITING_SQL.match(node.value)
        ):
            found.append((node.lineno, f"SQL {node.value.split()[0]}"))
    return [f"{line}: {what}" for line, what in sorted(found)]


def test_the_check_finds_each_kind_of_write() -> None:
    source = """
from sqlalchemy import delete, update as change
session.execute(delete(Customer))
session.execute(change(Customer).values(city=None))
session.add(Customer())
self.session.merge(row)
connection.exec_driver_sql("INSERT INTO rapport_customer VALUES (1)")
session.execute(select(Customer))  # reading is fine
notes.add("x")  # a set, not a session
"""
    assert [line.split(": ", 1)[1] for line in writes_in(source)] == [
        "delete()",
        "change()",
        "session.add()",
        "self.session.merge()",
        "SQL INSERT",
    ]


def test_only_the_store_writes_rapports_tables() -> None:
    modules = _modules()
    assert len(modules) > 30  # the whole package was read, not an empty folder
    writes = {
        str(path.relative_to(PACKAGE)): found
        for path in modules
        if (found := writes_in(path.read_text(encoding="utf-8")))
    }
    assert writes == {}
