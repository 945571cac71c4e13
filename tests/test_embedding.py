"""rapport inside host apps: a scoped_session, and the Flask, FastAPI and Django examples
of docs/embedding.md, run as shown (the doc shows exactly the files run here)."""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, scoped_session, sessionmaker

import rapport
from tests.conftest import count_rows, empty_tables

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"


@pytest.fixture
def examples(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return EXAMPLES


def example(name: str) -> ModuleType:
    return importlib.import_module(name)


# ------------------------------------------------------------------ scoped_session


@pytest.fixture
def registry(engine: Engine) -> Iterator[scoped_session[Session]]:
    sessions = scoped_session(sessionmaker(engine))
    yield sessions
    sessions.remove()
    empty_tables(engine)


def test_rapport_accepts_a_scoped_session_and_writes_in_its_current_session(
    registry: scoped_session[Session], engine: Engine
) -> None:
    crm = rapport.Rapport(registry, currency="EUR")
    crm.upsert_customer({"external_id": "C-1", "first_name": "Aino"})
    assert registry().in_transaction()  # rapport flushed into the host's session ...
    assert count_rows(engine, "rapport_customer") == 0  # ... and did not commit it
    registry.commit()
    assert count_rows(engine, "rapport_customer") == 1


def test_a_scoped_sessions_rollback_removes_rapports_rows(
    registry: scoped_session[Session], engine: Engine
) -> None:
    crm = rapport.Rapport(registry, currency="EUR")
    crm.upsert_customer({"external_id": "C-1", "first_name": "Aino"})
    registry.rollback()
    registry.remove()
    assert count_rows(engine, "rapport_customer") == 0


def test_one_rapport_follows_the_scoped_session_to_each_new_session(
    registry: scoped_session[Session],
) -> None:
    crm = rapport.Rapport(registry, currency="EUR")
    crm.upsert_customer({"external_id": "C-1", "first_name": "Aino"})
    registry.commit()
    registry.remove()  # the end of a request: the next call gets a new session
    assert crm.get_customer("C-1").first_name == "Aino"


def test_something_that_is_not_a_session_is_still_refused() -> None:
    with pytest.raises(TypeError, match="Engine, Session or scoped_session"):
        rapport.Rapport("sqlite:///x.db")  # type: ignore[arg-type]


# ------------------------------------------------------------------ the doc shows the files


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize(
    "example_file",
    [
        "flask_shop.py",
        "fastapi_shop.py",
        "django_shop/crm.py",
        "django_shop/apps.py",
        "django_shop/views.py",
    ],
)
def test_docs_embedding_shows_each_example_exactly_as_tested(example_file: str) -> None:
    blocks = python_blocks(ROOT / "docs" / "embedding.md")
    assert (EXAMPLES / example_file).read_text() in blocks, (
        f"docs/embedding.md must show docs/examples/{example_file} as it is"
    )


# ------------------------------------------------------------------ Flask


@pytest.fixture
def flask_client(examples: Path, fresh_url: str) -> Iterator[Any]:
    flask_shop = example("flask_shop")
    app = flask_shop.create_app(fresh_url)
    yield app.test_client()
    with app.app_context():
        flask_shop.db.session.remove()
        flask_shop.db.engine.dispose()


def test_the_flask_example_commits_an_order_and_its_purchase_together(flask_client: Any) -> None:
    customer = {"external_id": "C-1", "first_name": "Aino", "email": "aino@example.fi"}
    assert flask_client.post("/customers", json=customer).status_code == 201
    placed = flask_client.post("/orders", json={"customer": "C-1", "total": "649.90"})
    assert placed.status_code == 201
    profile = flask_client.get("/customers/C-1").get_json()
    assert profile["purchase_count"] == 1
    assert Decimal(profile["lifetime_value"]) == Decimal("649.90")


def test_the_flask_example_rolls_back_the_order_when_rapport_refuses_it(
    flask_client: Any, examples: Path
) -> None:
    placed = flask_client.post("/orders", json={"customer": "nobody", "total": "10.00"})
    assert placed.status_code == 404
    assert "nobody" in placed.get_json()["error"]
    flask_shop = example("flask_shop")
    with flask_client.application.app_context():
        orders = flask_shop.db.session.execute(text('SELECT count(*) FROM "order"'))
        assert orders.scalar_one() == 0


# ------------------------------------------------------------------ FastAPI


@pytest.fixture
def fastapi_client(examples: Path, fresh_url: str) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(example("fastapi_shop").create_app(fresh_url)) as client:
        yield client


def test_the_fastapi_example_plans_a_birthday_and_closes_the_task(fastapi_client: Any) -> None:
    customer = {
        "external_id": "C-1",
        "first_name": "Aino",
        "email": "aino@example.fi",
        "consent_email": "granted",
        "birthday": "1990-12-02",
    }
    assert fastapi_client.post("/customers", json=customer).status_code == 201
    created = fastapi_client.post("/plan", params={"as_of": "2026-11-30"}).json()
    assert created["birthday_card"] == 1
    [task] = [
        t
        for t in fastapi_client.get("/tasks", params={"due_by": "2026-11-30"}).json()
        if t["rule"] == "birthday_card"
    ]
    done = fastapi_client.post(f"/tasks/{task['id']}/done", params={"outcome": "Card posted"})
    assert done.json()["status"] == "done"
    assert fastapi_client.get("/customers/C-1").json()["first_name"] == "Aino"


def test_the_fastapi_example_answers_404_and_422_from_rapports_errors(
    fastapi_client: Any,
) -> None:
    assert fastapi_client.get("/customers/nobody").status_code == 404
    bad = {"external_id": "C-2", "timezone": "Europe/Helsingfors"}
    assert fastapi_client.post("/customers", json=bad).status_code == 422


# ------------------------------------------------------------------ Django


@pytest.fixture(scope="module")
def django_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """Django's settings are per process: one SQLite database for this module's tests."""
    import django
    from django.core.management import call_command

    sys.path.insert(0, str(EXAMPLES))
    os.environ["SHOP_DATABASE"] = str(tmp_path_factory.mktemp("django") / "shop.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_shop.settings"
    try:
        django.setup()
        call_command("migrate", verbosity=0)
        crm = importlib.import_module("django_shop.crm")
        yield crm
        crm.engine().dispose()
    finally:
        sys.path.remove(str(EXAMPLES))
        del os.environ["SHOP_DATABASE"], os.environ["DJANGO_SETTINGS_MODULE"]


def test_djangos_migrate_runs_rapports_own_migrations(django_shop: ModuleType) -> None:
    django_shop.crm().check_schema()  # raises SchemaError when behind


def test_the_django_example_records_a_committed_order_in_rapport(
    django_shop: ModuleType,
) -> None:
    from django.test import Client

    client = Client()
    customer = {"external_id": "D-1", "first_name": "Eero", "email": "eero@example.fi"}
    created = client.post("/customers", customer, content_type="application/json")
    assert created.status_code == 201
    order = {"customer": "D-1", "total": "120.00"}
    assert client.post("/orders", order, content_type="application/json").status_code == 201
    profile = client.get("/customers/D-1").json()
    assert profile["purchase_count"] == 1
    assert client.get("/customers/nobody").status_code == 404


@pytest.mark.parametrize(
    ("database", "url"),
    [
        (
            {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/shop/db.sqlite3"},
            "sqlite:////srv/shop/db.sqlite3",
        ),
        (
            {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "shop",
                "USER": "shop",
                "PASSWORD": "p@ss",
                "HOST": "db",
                "PORT": "5432",
            },
            "postgresql+psycopg://shop:p%40ss@db:5432/shop",
        ),
    ],
)
def test_the_django_example_finds_djangos_database_for_sqlalchemy(
    django_shop: ModuleType, database: dict[str, str], url: str
) -> None:
    rendered = django_shop.sqlalchemy_url(database).render_as_string(hide_password=False)
    assert rendered == url


def test_the_django_example_refuses_a_database_rapport_does_not_run_on(
    django_shop: ModuleType,
) -> None:
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        django_shop.sqlalchemy_url({"ENGINE": "django.db.backends.mysql", "NAME": "shop"})
