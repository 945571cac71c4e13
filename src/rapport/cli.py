"""The ``rapport`` command line, for operators and scheduled scripts.

This is the only module that reads the clock or builds an engine from a URL. Exit codes:
0 ok, 1 failed (the reason on standard error), 2 bad usage. Progress bars appear only on
a terminal; in scripts the output stays plain and stable.

The database is ``--db URL``, else ``$RAPPORT_DATABASE_URL``, else ``database`` in the
settings file, else ``sqlite:///rapport.db`` in the current folder. The settings file is
``--config FILE``, else ``rapport.toml`` in the current folder, else the defaults.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.engine import make_url

from rapport import database
from rapport._api import Rapport
from rapport._errors import ImportRejected, RapportError, TemplateError
from rapport.config import CONFIG_FILE_NAME, Settings, load_settings
from rapport.demo import (
    demo_cases,
    demo_customers,
    demo_interactions,
    demo_promises,
    demo_purchases,
)
from rapport.exports import rule_labels
from rapport.exports.report_page import write_report_page
from rapport.importing import ImportKind, RowProblem
from rapport.metrics import OutreachReport
from rapport.models.enums import OPEN_TASK_STATUSES, TaskKind, TaskStatus
from rapport.models.schemas import CustomerProfile
from rapport.planner import PlanReport
from rapport.rules import rule_classes
from rapport.templates.check import check_templates
from rapport.templates.render import Renderer

DEFAULT_DATABASE_URL = "sqlite:///rapport.db"
DATABASE_URL_VARIABLE = "RAPPORT_DATABASE_URL"
FORMATS = ("csv", "json", "html", "ics")

app = typer.Typer(
    name="rapport",
    help="Remember your customers, and reach out at the right moment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
customer_app = typer.Typer(
    help="One customer: show, export or erase their data.", no_args_is_help=True
)
templates_app = typer.Typer(help="Message templates.", no_args_is_help=True)
import_app = typer.Typer(help="Import CSV or JSONL files.", no_args_is_help=True)
app.add_typer(customer_app, name="customer")
app.add_typer(templates_app, name="templates")
app.add_typer(import_app, name="import")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=f"Database URL (else ${DATABASE_URL_VARIABLE}, else the config, else "
        f"{DEFAULT_DATABASE_URL}).",
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
AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="The day (YYYY-MM-DD); default today in the business timezone.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TaskArgument = Annotated[int, typer.Argument(help="The task id (first column of outreach).")]


def resolve_database_url(option: str | None, settings: Settings | None = None) -> str:
    """``--db``, else ``$RAPPORT_DATABASE_URL``, else the config, else ``rapport.db``."""
    return (
        option
        or os.environ.get(DATABASE_URL_VARIABLE)
        or (settings.database if settings else None)
        or DEFAULT_DATABASE_URL
    )


@contextmanager
def _failures_exit_1() -> Iterator[None]:
    try:
        yield
    except RapportError as error:
        err.print(f"error: {error}", markup=False)
        raise typer.Exit(1) from None


@contextmanager
def _rapport(db: str | None, config: Path | None, *, check: bool = True) -> Iterator[Rapport]:
    """A Rapport on the resolved database and settings; failures exit 1."""
    with _failures_exit_1():
        settings = load_settings(config)
        with Rapport.from_url(resolve_database_url(db, settings), settings=settings) as crm:
            if check:
                crm.check_schema()
            yield crm


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def output_file(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or ``path`` written whole: the text goes to a hidden file beside
    it, which replaces ``path`` only when everything is written. A run that fails or is
    killed half-way leaves yesterday's list, never a truncated one."""
    if path is None:
        yield sys.stdout
        return
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- database


@app.command()
def init(db: DbOption = None, config: ConfigOption = None) -> None:
    """Create rapport's tables, or upgrade them to this version."""
    with _rapport(db, config, check=False) as crm:
        crm.migrate()
        crm.check_schema()
        url = resolve_database_url(db, crm.settings)
    out.print(f"rapport tables are at migration {database.head_revision()} in {_safe(url)}")


# ---------------------------------------------------------------------------- import


def _import(
    kind: ImportKind,
    file: Path,
    db: str | None,
    config: Path | None,
    skip_invalid: bool,
    rejects: Path | None,
    allow_rejects: bool = False,
) -> None:
    for option, given in (("--rejects", rejects is not None), ("--allow-rejects", allow_rejects)):
        if given and not skip_invalid:
            err.print(f"error: {option} needs --skip-invalid", markup=False)
            raise typer.Exit(2)

    def problem(row: RowProblem) -> None:
        err.print(str(row), markup=False)

    with (
        _rapport(db, config) as crm,
        Progress(console=err, transient=True, disable=not err.is_terminal) as progress,
    ):
        bar = progress.add_task(f"Importing {kind}", total=None)
        try:
            result = crm.import_file(
                kind,
                file,
                skip_invalid=skip_invalid,
                rejects=rejects,
                on_problem=problem,
                on_progress=lambda rows: progress.update(bar, completed=rows),
            )
        except ImportRejected as rejected:
            failed = rejected.result
            err.print(
                f"error: {failed.rejected} of {failed.rows} rows are invalid; nothing was "
                "imported (fix them, or use --skip-invalid --rejects FILE)",
                markup=False,
            )
            raise typer.Exit(1) from None
    out.print(
        f"{kind}: {result.rows} rows read, {result.created} created, {result.updated} "
        f"updated, {result.unchanged} unchanged, {result.rejected} rejected"
        + (f" (written to {result.rejects})" if result.rejects else ""),
        markup=False,
    )
    if result.rejected and not allow_rejects:
        # A scheduled import must notice the rows it left behind.
        advice = (
            f"fix the cells in {result.rejects} and import that file again"
            if result.rejects
            else "use --rejects FILE to keep them"
        )
        err.print(
            f"error: {result.rejected} of {result.rows} rows were rejected and not imported; "
            f"{advice} (--allow-rejects exits 0 when rejects are expected)",
            markup=False,
        )
        raise typer.Exit(1)


FileArgument = Annotated[
    Path, typer.Argument(help="A CSV (header row) or JSONL (.jsonl) file.", show_default=False)
]
SkipOption = Annotated[
    bool, typer.Option("--skip-invalid", help="Import the good rows even if some are bad.")
]
RejectsOption = Annotated[
    Path | None,
    typer.Option(
        "--rejects",
        help="With --skip-invalid: write the bad rows here, as they were plus an 'error' "
        "column; fix them and import this file again.",
    ),
]
AllowRejectsOption = Annotated[
    bool,
    typer.Option(
        "--allow-rejects",
        help="With --skip-invalid: exit 0 even when rows were rejected (default: exit 1).",
    ),
]


_IMPORT_HELP = {
    ImportKind.CUSTOMERS: "Create or update customers by external_id.",
    ImportKind.PURCHASES: "Record purchases; a purchase_id already imported is left alone.",
    ImportKind.INTERACTIONS: "Record calls, visits, emails and other contacts.",
}


def _import_command(kind: ImportKind) -> Callable[..., None]:
    def command(
        file: FileArgument,
        db: DbOption = None,
        config: ConfigOption = None,
        skip_invalid: SkipOption = False,
        rejects: RejectsOption = None,
        allow_rejects: AllowRejectsOption = False,
    ) -> None:
        _import(kind, file, db, config, skip_invalid, rejects, allow_rejects)

    command.__doc__ = _IMPORT_HELP[kind]
    return command


for _kind in ImportKind:
    import_app.command(_kind.value)(_import_command(_kind))


# ---------------------------------------------------------------------------- planning


@app.command()
def plan(
    db: DbOption = None,
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    horizon: Annotated[
        int | None, typer.Option("--horizon", min=0, help="Days ahead (default: config, 7).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write nothing; show what.")] = False,
    as_json: JsonOption = False,
    shard: Annotated[
        str | None,
        typer.Option("--shard", help="K/N: plan only shard K of N (several workers at once)."),
    ] = None,
) -> None:
    """Run the rules: create the tasks due by as-of + horizon, and print the report."""
    with _rapport(db, config) as crm:
        report = crm.plan(_day(as_of), horizon_days=horizon, dry_run=dry_run, shard=shard)
    if as_json:
        out.print_json(report.model_dump_json())
    else:
        _print_plan(report)


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    """Plain aligned columns: stable for scripts, readable for people."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _print_plan(report: PlanReport) -> None:
    mode = " (dry run: nothing written)" if report.dry_run else ""
    out.print(
        f"plan for {report.as_of.isoformat()}, horizon {report.horizon_days} days{mode}",
        markup=False,
    )
    header = ("rule", "created", "already", "late", "missed", "moved", "skipped")
    rows = [
        (
            name,
            str(r.created),
            str(r.already_planned),
            str(r.late),
            str(r.missed),
            str(r.moved_by_caps),
            ", ".join(f"{k} {v}" for k, v in r.skipped.items()) or "-",
        )
        for name, r in report.rules.items()
    ]
    for line in _columns([header, *rows]):
        out.print(line, markup=False)
    out.print(
        f"expired {report.expired}, cancelled {report.cancelled}, {report.duration_seconds:.2f} s",
        markup=False,
    )
    if report.dry_run:
        for task in report.tasks:
            out.print(
                f"would create {task.occasion_key}: {task.kind.value}"
                f"{f' via {task.channel.value}' if task.channel else ''} "
                f"due {task.due_on.isoformat()}{' (late)' if task.late else ''}"
                f"{' MISSED' if task.status is TaskStatus.MISSED else ''}",
                markup=False,
            )


@app.command()
def outreach(
    db: DbOption = None,
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    kind: Annotated[
        list[TaskKind] | None, typer.Option("--kind", help="Only this kind (repeatable).")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this staff member.")] = None,
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Only this rule (repeatable).")
    ] = None,
    status: Annotated[
        list[TaskStatus] | None,
        typer.Option("--status", help="Only this status (repeatable; default planned, snoozed)."),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", help="csv, json, html (call sheet) or ics (calls).")
    ] = "csv",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """The tasks due on or before as-of (late ones included), for staff or another system."""
    if format not in FORMATS:
        err.print(
            f"error: --format must be one of {', '.join(FORMATS)}, not {format!r}", markup=False
        )
        raise typer.Exit(2)
    with _rapport(db, config) as crm:
        try:
            with output_file(output) as handle:
                count = crm.write_outreach(
                    handle,
                    format,
                    _day(as_of),
                    kinds=kind or (),
                    owner=owner,
                    rules=rule or (),
                    statuses=status or OPEN_TASK_STATUSES,
                )
        except TemplateError as error:
            # Never a list with a blank message: the whole list fails, the old file stays.
            kept = f"; {output} was left as it was" if output is not None else ""
            err.print(
                f"error: {error}{kept}; fix the template (rapport templates check lists "
                "every broken one) and run this again",
                markup=False,
            )
            raise typer.Exit(1) from None
    if output is not None:
        err.print(f"{count} tasks written to {output}", markup=False)


# ---------------------------------------------------------------------------- task lifecycle


@app.command()
def done(
    task: TaskArgument,
    db: DbOption = None,
    config: ConfigOption = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="What came of it.")] = None,
) -> None:
    """Mark a task done (records the contact)."""
    with _rapport(db, config) as crm:
        result = crm.complete_task(task, outcome=outcome)
    out.print(f"task {result.id} done", markup=False)


@app.command()
def skip(
    task: TaskArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why it will not be done.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Decide not to do a task."""
    with _rapport(db, config) as crm:
        result = crm.skip_task(task, reason=reason)
    out.print(f"task {result.id} skipped", markup=False)


@app.command()
def snooze(
    task: TaskArgument,
    until: Annotated[
        dt.datetime, typer.Option("--until", formats=["%Y-%m-%d"], help="The new day (YYYY-MM-DD).")
    ],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Put a task off to a later day inside its window."""
    with _rapport(db, config) as crm:
        result = crm.snooze_task(task, until=until.date())
    out.print(f"task {result.id} snoozed until {result.due_on.isoformat()}", markup=False)


# ---------------------------------------------------------------------------- customers


@customer_app.command("show")
def customer_show(
    external_id: Annotated[str, typer.Argument(help="The customer's external id.")],
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a customer's profile: details, interests, family, recent history."""
    with _rapport(db, config) as crm:
        profile = crm.get_profile(external_id)
    if as_json:
        out.print_json(profile.model_dump_json())
    else:
        _print_profile(profile)


@customer_app.command("export")
def customer_export(
    external_id: Annotated[str, typer.Argument(help="The customer's external id.")],
    db: DbOption = None,
    config: ConfigOption = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file.")
    ] = None,
) -> None:
    """Every row about the customer as one JSON document (data access and portability)."""
    with _rapport(db, config) as crm:
        document = crm.export_customer(external_id)
    with output_file(output) as handle:
        json.dump(document, handle, ensure_ascii=False, indent=2, default=_json_value)
        handle.write("\n")


def _json_value(value: object) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


@customer_app.command("erase")
def customer_erase(
    external_id: Annotated[str, typer.Argument(help="The customer's external id.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Erase the customer's personal data (keeps anonymous totals); safe to repeat."""
    with _rapport(db, config) as crm:
        erased = crm.erase_customer(external_id)
    out.print(
        f"customer {external_id} {'erased' if erased else 'was already erased'}", markup=False
    )


# ---------------------------------------------------------------------------- templates, report


@templates_app.command("check")
def templates_check(config: ConfigOption = None) -> None:
    """Render every template in every language with sample data; exit 1 if any fails."""
    with _failures_exit_1():
        settings = load_settings(config)
        renderer = Renderer(
            user_dirs=[settings.templates_dir] if settings.templates_dir else [],
            default_language=settings.business.language,
            rules=rule_classes(settings),
        )
        results = check_templates(renderer)
    failures = [r for r in results if not r.ok]
    for result in failures:
        err.print(f"FAIL {result.template}: {result.error}", markup=False)
    out.print(f"{len(results) - len(failures)} of {len(results)} templates render correctly")
    if failures:
        raise typer.Exit(1)


@app.command()
def report(
    db: DbOption = None,
    config: ConfigOption = None,
    start: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First due day (default: 30 days ago)."),
    ] = None,
    end: Annotated[
        dt.datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last due day (default: today)."),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", help="table, json or html (a page with charts).")
    ] = "table",
    as_json: JsonOption = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Service metrics: tasks per rule, coverage, complaints, promises, surveys."""
    format = "json" if as_json else format
    if format not in ("table", "json", "html"):
        err.print(f"error: --format must be table, json or html, not {format!r}", markup=False)
        raise typer.Exit(2)
    with _rapport(db, config) as crm:
        last = _day(end) or crm.today()
        first = _day(start) or last - dt.timedelta(days=30)
        if first > last:
            err.print("error: --from is after --to", markup=False)
            raise typer.Exit(2)
        result = crm.report(first, last)
        business, now = crm.settings.business.name, crm.now()
        labels = rule_labels(crm.planner.catalog)
    with output_file(output) as handle:
        if format == "json":
            handle.write(result.model_dump_json(indent=2) + "\n")
        elif format == "html":
            write_report_page(result, handle, business=business, generated_at=now, labels=labels)
        else:
            _print_report(result, handle)


def _print_report(result: OutreachReport, handle: TextIO) -> None:
    lines = [f"tasks due {result.start.isoformat()} to {result.end.isoformat()}"]
    header = ("rule", "tasks", "planned", "done", "late", "missed", "expired", "on time")
    rows = [
        (
            name,
            *(str(getattr(m, field)) for field in header[1:7]),
            f"{m.on_time_rate:.0%}" if m.on_time_rate is not None else "-",
        )
        for name, m in [*result.rules.items(), ("total", result.total)]
    ]
    lines += _columns([header, *rows])
    s = result.service

    def rate(value: float | None) -> str:
        return f"{value:.0%}" if value is not None else "-"

    lines += [
        "",
        f"top customers contacted in 90 days: {s.top_segment_contacted_90d} of "
        f"{s.top_segment} ({rate(s.coverage)})",
        f"complaints: {s.cases_opened} opened, {s.cases_resolved} resolved, "
        f"{rate(s.first_contact_resolution_rate)} on first contact, median "
        f"{s.median_days_to_resolution if s.median_days_to_resolution is not None else '-'} days",
        f"promises kept on time: {s.promises_kept_on_time} of {s.promises_due}",
        f"survey answers: {s.survey_answers}, average "
        f"{s.average_survey_score if s.average_survey_score is not None else '-'}",
    ]
    handle.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------- demo


@app.command()
def demo(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: a new SQLite file in a temp folder)."),
    ] = None,
    customers: Annotated[int, typer.Option(min=1, help="How many customers.")] = 600,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same data.")] = 7,
) -> None:
    """Build a demo customer base, plan today's outreach, and write the call sheet."""
    folder = Path(tempfile.mkdtemp(prefix="rapport-demo-"))
    if db is None:
        db = f"sqlite:///{folder / 'rapport-demo.db'}"
    settings = Settings.model_validate(
        {
            "business": {
                "name": "Harbour Books",
                "timezone": "Europe/Helsinki",
                "country": "FI",
                "signature": "Maria and the Harbour Books team",
            },
            "rules": {"thank_you_note": {"min_amount": 300}},
        }
    )
    with _failures_exit_1(), Rapport.from_url(db, settings=settings) as crm:
        crm.migrate()
        as_of = crm.today()
        people = list(demo_customers(customers, seed=seed, as_of=as_of))
        _in_batches("Customers", people, crm.upsert_customers)
        purchases = list(demo_purchases(people, seed=seed, as_of=as_of, currency="EUR"))
        _in_batches("Purchases", purchases, crm.record_purchases)
        contacts = list(
            demo_interactions([p["external_id"] for p in people], seed=seed, as_of=as_of)
        )
        _in_batches("Interactions", contacts, crm.record_interactions)
        ids = [p["external_id"] for p in people]
        for case, resolved_at in demo_cases(ids, seed=seed, as_of=as_of):
            opened = crm.open_case(case)
            if resolved_at is not None:
                crm.resolve_case(opened.id, at=resolved_at, on_first_contact=True)
        for promise in demo_promises(ids, seed=seed, as_of=as_of):
            crm.create_promise(promise)
        result = crm.plan(as_of)
        rows = crm.outreach(as_of)
        sheet = folder / "call-sheet.html"
        with sheet.open("w", encoding="utf-8") as handle:
            crm.write_outreach(handle, "html", as_of)

    out.print(
        f"Demo database: {_safe(db)}\n"
        f"{len(people)} customers, {len(purchases)} purchases, {len(contacts)} interactions "
        f"(seed {seed})\n",
        markup=False,
    )
    _print_plan(result)
    shown = f"first 10 of {len(rows)}" if len(rows) > 10 else f"{len(rows)} tasks"
    table = Table(title=f"Outreach due by {as_of.isoformat()} ({shown})")
    for column in ("task", "due", "kind", "customer", "owner", "reason"):
        table.add_column(column)
    for row in rows[:10]:
        table.add_row(
            str(row.task_id),
            row.due_on.isoformat() + (" late" if row.late else ""),
            row.kind.value,
            row.customer_name,
            row.owner or "",
            row.reason,
        )
    out.print()
    out.print(table)
    out.print(f"\nCall sheet: {sheet}", markup=False)
    out.print(f"Try: rapport outreach --db {_safe(db)} --format csv", markup=False)


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


def main() -> None:
    """Entry point of the ``rapport`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
