"""The ``rapport`` command line, for operators and scheduled scripts.

This is the only module that reads the clock or builds an engine from a URL. Exit codes:
0 ok, 1 failed, 2 bad usage. Progress bars appear only on a terminal; in scripts the
output stays plain and stable.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.engine import make_url

from rapport import database
from rapport._api import Rapport
from rapport._errors import RapportError
from rapport.config import CONFIG_FILE_NAME, load_settings
from rapport.demo import demo_customers, demo_interactions, demo_purchases
from rapport.models.schemas import CustomerProfile
from rapport.templates.check import check_templates
from rapport.templates.render import Renderer

DEFAULT_DATABASE_URL = "sqlite:///rapport.db"
DATABASE_URL_VARIABLE = "RAPPORT_DATABASE_URL"

app = typer.Typer(
    name="rapport",
    help="Remember your customers, and reach out at the right moment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
customer_app = typer.Typer(help="Look at one customer.", no_args_is_help=True)
app.add_typer(customer_app, name="customer")
templates_app = typer.Typer(help="Message templates.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=f"Database URL (else ${DATABASE_URL_VARIABLE}, else {DEFAULT_DATABASE_URL}).",
        show_default=False,
    ),
]


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help=f"Settings file (else {CONFIG_FILE_NAME} in the current folder, else defaults).",
        show_default=False,
    ),
]


def resolve_database_url(option: str | None) -> str:
    """``--db``, else ``$RAPPORT_DATABASE_URL``, else ``rapport.db`` in the current folder."""
    return option or os.environ.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@contextmanager
def _failures_exit_1() -> Iterator[None]:
    try:
        yield
    except RapportError as error:
        err.print(f"error: {error}", markup=False)
        raise typer.Exit(1) from None


@app.command()
def init(db: DbOption = None) -> None:
    """Create rapport's tables, or upgrade them to this version."""
    url = resolve_database_url(db)
    with _failures_exit_1(), Rapport.from_url(url) as rapport:
        rapport.migrate()
        rapport.check_schema()
    out.print(f"rapport tables are at migration {database.head_revision()} in {_safe(url)}")


@customer_app.command("show")
def customer_show(
    external_id: Annotated[str, typer.Argument(help="The customer's external id.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a customer's profile: details, interests, family, recent history."""
    with _failures_exit_1(), Rapport.from_url(resolve_database_url(db)) as rapport:
        profile = rapport.get_profile(external_id)
    if as_json:
        out.print_json(profile.model_dump_json())
    else:
        _print_profile(profile)


@templates_app.command("check")
def templates_check(config: ConfigOption = None) -> None:
    """Render every template in every language with sample data; exit 1 if any fails."""
    with _failures_exit_1():
        settings = load_settings(config)
        renderer = Renderer(
            user_dirs=[settings.templates_dir] if settings.templates_dir else [],
            default_language=settings.business.language,
        )
        results = check_templates(renderer)
    failures = [r for r in results if not r.ok]
    for result in failures:
        err.print(f"FAIL {result.template}: {result.error}", markup=False)
    out.print(f"{len(results) - len(failures)} of {len(results)} templates render correctly")
    if failures:
        raise typer.Exit(1)


@app.command()
def demo(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: a new SQLite file in a temp folder)."),
    ] = None,
    customers: Annotated[int, typer.Option(min=1, help="How many customers.")] = 600,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same data.")] = 7,
) -> None:
    """Build a demo database of realistic customers and show what rapport knows."""
    if db is None:
        folder = Path(tempfile.mkdtemp(prefix="rapport-demo-"))
        db = f"sqlite:///{folder / 'rapport-demo.db'}"
    as_of = today()
    with _failures_exit_1(), Rapport.from_url(db, currency="EUR") as rapport:
        rapport.migrate()
        people = list(demo_customers(customers, seed=seed, as_of=as_of))
        ids = [person["external_id"] for person in people]
        _in_batches("Customers", people, rapport.upsert_customers)
        purchases = list(demo_purchases(people, seed=seed, as_of=as_of, currency="EUR"))
        _in_batches("Purchases", purchases, rapport.record_purchases)
        contacts = list(demo_interactions(ids, seed=seed, as_of=as_of))
        _in_batches("Interactions", contacts, rapport.record_interactions)
        top = rapport.find_customers(order_by="spend_365d", limit=10)
        vip = rapport.get_profile(top[0].external_id) if top else None

    out.print(
        f"Demo database: {_safe(db)}\n"
        f"{len(people)} customers, {len(purchases)} purchases, "
        f"{len(contacts)} interactions (as of {as_of.isoformat()}, seed {seed})\n"
    )
    table = Table(title="Top customers by spend in the last 365 days")
    for column in ("customer", "name", "language", "owner", "spend 365 d", "purchases"):
        table.add_column(column)
    for c in top:
        table.add_row(
            c.external_id,
            f"{c.first_name} {c.last_name}",
            c.language or "",
            c.owner or "",
            f"{c.spend_365d:.2f}",
            str(c.purchase_count),
        )
    out.print(table)
    if vip is not None:
        out.print()
        _print_profile(vip)
    out.print(
        f"\nLook up any customer: rapport customer show {ids[0]} --db {_safe(db)}",
        markup=False,
    )


def _in_batches(
    label: str, rows: list[dict[str, Any]], write: Callable[[Iterable[Any]], object]
) -> None:
    """Write rows a batch at a time, with a progress bar on a terminal only."""
    size = 1000
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        bar = progress.add_task(label, total=len(rows))
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            write(batch)
            progress.advance(bar, len(batch))


def _print_profile(profile: CustomerProfile) -> None:
    name = " ".join(n for n in (profile.first_name, profile.last_name) if n)
    out.print(f"[bold]{name or profile.external_id}[/bold] ({profile.external_id})")
    lines = [
        ("Greet as", profile.display_name),
        ("Language", profile.language),
        ("Birthday", str(profile.birthday) if profile.birthday else None),
        ("Customer since", profile.customer_since.isoformat() if profile.customer_since else None),
        ("Owner", profile.owner),
        ("Tags", ", ".join(profile.tags)),
        ("Interests", ", ".join(i.topic for i in profile.interests)),
        (
            "Family",
            ", ".join(
                f"{m.name} ({m.relation.value}" + (f", born {m.birthday})" if m.birthday else ")")
                for m in profile.family
            ),
        ),
        ("Purchases", f"{profile.purchase_count}, lifetime value {profile.lifetime_value:.2f}"),
        ("Spend, last 365 days", f"{profile.spend_365d:.2f}"),
        (
            "Last contact",
            profile.last_contact_at.date().isoformat() if profile.last_contact_at else None,
        ),
        (
            "Consent",
            ", ".join(f"{ch.value} {c.state.value}" for ch, c in profile.consent.items())
            + ("; DO NOT CONTACT" if profile.do_not_contact else ""),
        ),
    ]
    for label, value in lines:
        if value:
            out.print(f"  {label + ':':<22}{value}", markup=False)
    for purchase in profile.recent_purchases[:5]:
        out.print(
            f"  - {purchase.occurred_at.date().isoformat()} {purchase.description or ''} "
            f"{purchase.amount:.2f} {purchase.currency} ({purchase.status.value})",
            markup=False,
        )


def _day(moment: dt.datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Entry point of the ``rapport`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
