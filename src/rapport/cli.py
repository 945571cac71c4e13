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
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import click
import typer

# Everything below is imported where it is used: `rapport --help` and shell completion
# then start without loading SQLAlchemy, Alembic, pydantic, Jinja or Babel.
if TYPE_CHECKING:
    from rich.console import Console

    from rapport._api import Rapport
    from rapport.config import Settings
    from rapport.dates import PartialDate
    from rapport.importing import ImportKind
    from rapport.metrics import OutreachReport, StaffMetrics
    from rapport.models.schemas import CustomerProfile
    from rapport.planner import PlanReport
    from rapport.simulate import Simulation
    from rapport.staffing import StaffLoad

DEFAULT_DATABASE_URL = "sqlite:///rapport.db"
DATABASE_URL_VARIABLE = "RAPPORT_DATABASE_URL"
DEBUG_VARIABLE = "RAPPORT_DEBUG"
CONFIG_FILE_NAME = "rapport.toml"  # config.CONFIG_FILE_NAME, without importing pydantic
FORMATS = ("csv", "json", "html", "ics")
#: The most days ``rapport staff`` shows: a year, leap day included.
MAX_STAFF_DAYS = 366
# The values of ImportKind, TaskKind and TaskStatus (a test keeps them equal), so that
# help and completion can offer them without importing the models.
IMPORT_KINDS = ("customers", "purchases", "interactions")
TASK_KINDS = ("card", "note", "call", "email", "sms", "gift", "survey", "reminder")
TASK_STATUSES = ("planned", "done", "skipped", "snoozed", "cancelled", "expired", "missed")

log = logging.getLogger(__name__)

app = typer.Typer(
    name="rapport",
    help="Remember your customers, and reach out at the right moment.",
    no_args_is_help=True,
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


class _Consoles:
    """Rich consoles for standard output and standard error, made on first use (Rich
    costs time at start-up). Emoji codes and highlighting are off: customer data such as
    a name `:fire:` or `[red]` must print as written."""

    def __init__(self) -> None:
        self._out: Console | None = None
        self._err: Console | None = None

    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            self._out = Console(highlight=False, soft_wrap=True, emoji=False)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
        return self._err


_consoles = _Consoles()


def _out() -> Console:
    return _consoles.out


def _err() -> Console:
    return _consoles.err


def _escape(text: object) -> str:
    """Data shown through Rich markup, escaped: a name like ``[/]`` or ``[link=...]`` is
    text to print, not markup to run."""
    from rich.markup import escape

    return escape(str(text))


def _parse_day(value: str | dt.date) -> dt.date:
    """A day written ``YYYY-MM-DD``; anything else fails with an example of the form."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a day; write it as YYYY-MM-DD, for example 2026-12-02"
        ) from None


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help=f"Database URL (else ${DATABASE_URL_VARIABLE}, else the config, else "
        f"{DEFAULT_DATABASE_URL}).",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help=f"Settings file (else {CONFIG_FILE_NAME} in the current folder, else defaults).",
        show_default=False,
    ),
]
AsOfOption = Annotated[
    dt.date | None,
    typer.Option(
        "--as-of",
        parser=_parse_day,
        metavar="DATE",
        help="The day (YYYY-MM-DD); default today in the business timezone.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
OutputOption = typer.Option(
    "-o", "--output", metavar="FILE", help="Write to this file (default: stdout)."
)
TaskArgument = Annotated[
    int, typer.Argument(metavar="TASK", help="The task id (first column of outreach).")
]
TasksArgument = Annotated[
    list[int],
    typer.Argument(metavar="TASK...", help="The task ids (first column of outreach)."),
]


def resolve_database_url(option: str | None, settings: Settings | None = None) -> str:
    """``--db``, else ``$RAPPORT_DATABASE_URL``, else the config, else ``rapport.db``."""
    return (
        option
        or os.environ.get(DATABASE_URL_VARIABLE)
        or (settings.database if settings else None)
        or DEFAULT_DATABASE_URL
    )


def _debugging() -> bool:
    return _state.get("debug", False) or os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


_state: dict[str, bool] = {}


def _fail(error: BaseException) -> NoReturn:
    """One ``error:`` line (the traceback too with --debug or RAPPORT_DEBUG=1), exit 1."""
    from sqlalchemy import exc

    from rapport._errors import RapportError

    if isinstance(error, RapportError):
        message = str(error)
    elif isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        message = (
            f"{where}{error.strerror or error}; check that the path exists and that "
            "rapport may read and write there"
        )
    elif isinstance(error, exc.SQLAlchemyError):
        detail = str(getattr(error, "orig", None) or error).strip()
        first_line = detail.splitlines()[0] if detail else type(error).__name__
        message = f"the database refused the operation: {first_line}"
    else:
        raise error
    if _debugging():
        log.error("traceback of the failure", exc_info=error)
    log.debug("failed: %s", message)
    _err().print(f"error: {message}", markup=False)
    raise typer.Exit(1) from None


@contextmanager
def _failures_exit_1() -> Iterator[None]:
    """Turn the failures a user can cause (rapport's errors, files, the database) into
    one ``error:`` line and exit 1; anything else is a bug and keeps its traceback."""
    from sqlalchemy import exc

    from rapport._errors import RapportError

    try:
        yield
    except (RapportError, OSError, exc.SQLAlchemyError) as error:
        _fail(error)


@contextmanager
def _rapport(db: str | None, config: Path | None, *, check: bool = True) -> Iterator[Rapport]:
    """A Rapport on the resolved database and settings; failures exit 1.

    With ``check`` (every command but ``init``) a missing SQLite file is an error that
    says to run ``rapport init``, instead of a new empty file left behind.
    """
    from sqlalchemy import exc

    from rapport import database
    from rapport._api import Rapport
    from rapport._errors import SchemaError
    from rapport.config import load_settings

    with _failures_exit_1():
        settings = load_settings(config)
        url = resolve_database_url(db, settings)
        log.info("database %s", _safe(url))
        file = database.sqlite_file(url)
        if check and file is not None and not file.exists():
            raise SchemaError(
                f"there is no database at {file}; run `rapport init` to create one there, "
                "or give the database with --db, $RAPPORT_DATABASE_URL or the database setting"
            )
        # The command line builds the engine, and reaches the database once before any
        # work, so that a server that is down or a bad file is one clear error.
        engine = database.create_engine(url)
        try:
            try:
                with engine.connect() as connection:
                    if check:
                        database.require_current_schema(connection)
            except exc.SQLAlchemyError as error:
                raise database.connection_failure(error, url) from error
            with Rapport(engine, settings=settings) as crm:
                yield crm
        finally:
            engine.dispose()


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: the error about it comes from the database module
        return url


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
        handle = partial.open("w", encoding="utf-8", newline="")
    except OSError as error:
        # Name the file the user asked for, not the hidden one beside it.
        raise OSError(error.errno, f"cannot write {path}: {error.strerror}") from error
    try:
        with handle:
            yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- database


@app.command()
def init(db: DbOption = None, config: ConfigOption = None) -> None:
    """Create rapport's tables, or upgrade them to this version."""
    from rapport import database

    with _rapport(db, config, check=False) as crm:
        crm.migrate()
        crm.check_schema()
        url = resolve_database_url(db, crm.settings)
    _out().print(
        f"rapport tables are at migration {database.head_revision()} in {_safe(url)}",
        markup=False,
    )


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
    from rich.progress import Progress

    from rapport._errors import ImportRejected
    from rapport.importing import RowProblem

    for option, given in (("--rejects", rejects is not None), ("--allow-rejects", allow_rejects)):
        if given and not skip_invalid:
            _err().print(f"error: {option} needs --skip-invalid", markup=False)
            raise typer.Exit(2)

    def problem(row: RowProblem) -> None:
        _err().print(str(row), markup=False)

    with (
        _rapport(db, config) as crm,
        Progress(console=_err(), transient=True, disable=not _err().is_terminal) as progress,
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
            _err().print(
                f"error: {failed.rejected} of {failed.rows} rows are invalid; nothing was "
                "imported (fix them, or use --skip-invalid --rejects FILE)",
                markup=False,
            )
            raise typer.Exit(1) from None
    _out().print(
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
        _err().print(
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
    "customers": "Create or update customers by external_id.",
    "purchases": "Record purchases; a purchase_id already imported is left alone.",
    "interactions": "Record calls, visits, emails and other contacts.",
}


def _import_command(kind: str) -> Callable[..., None]:
    def command(
        file: FileArgument,
        db: DbOption = None,
        config: ConfigOption = None,
        skip_invalid: SkipOption = False,
        rejects: RejectsOption = None,
        allow_rejects: AllowRejectsOption = False,
    ) -> None:
        from rapport.importing import ImportKind

        _import(ImportKind(kind), file, db, config, skip_invalid, rejects, allow_rejects)

    command.__doc__ = _IMPORT_HELP[kind]
    return command


for _kind in IMPORT_KINDS:
    import_app.command(_kind)(_import_command(_kind))


# ---------------------------------------------------------------------------- planning


@app.command()
def plan(
    db: DbOption = None,
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    horizon: Annotated[
        int | None,
        typer.Option("--horizon", min=0, metavar="DAYS", help="Days ahead (default: config, 7)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Write nothing; show what.")] = False,
    as_json: JsonOption = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard", metavar="K/N", help="Plan only shard K of N (several workers at once)."
        ),
    ] = None,
) -> None:
    """Run the rules: create the tasks due by as-of + horizon, and print the report."""
    with _rapport(db, config) as crm:
        report = crm.plan(as_of, horizon_days=horizon, dry_run=dry_run, shard=shard)
    if as_json:
        _out().print_json(report.model_dump_json())
    else:
        _print_plan(report)


@app.command()
def explain(
    customer: Annotated[str, typer.Argument(metavar="CUSTOMER", help="The external id.")],
    db: DbOption = None,
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    format: Annotated[
        str,
        typer.Option("--format", click_type=click.Choice(("table", "json")), help="table or json."),
    ] = "table",
) -> None:
    """Why CUSTOMER gets, or does not get, each rule's contact on a day. Writes nothing."""
    with _rapport(db, config) as crm:
        explanation = crm.explain(customer, as_of)
    if format == "json":
        verdicts = [verdict.model_dump(mode="json") for verdict in explanation.verdicts]
        _out().print_json(json.dumps(verdicts))
        return
    _out().print(
        f"{explanation.customer_id} on {explanation.as_of.isoformat()} (occasions due "
        f"{explanation.first_due.isoformat()} to {explanation.last_due.isoformat()})",
        markup=False,
    )
    header = ("rule", "verdict", "due", "channel", "why")
    rows = [
        (
            v.rule,
            v.verdict.value,
            v.due_on.isoformat() if v.due_on else "-",
            v.channel.value if v.channel else "-",
            f"task {v.task_id}" if v.reason is None and v.task_id else v.reason or "-",
        )
        for v in explanation.verdicts
    ]
    for line in _columns([header, *rows]):
        _out().print(line, markup=False)


@app.command()
def simulate(
    start: Annotated[
        dt.date,
        typer.Option("--from", parser=_parse_day, metavar="DATE", help="The first day."),
    ],
    end: Annotated[
        dt.date, typer.Option("--to", parser=_parse_day, metavar="DATE", help="The last day.")
    ],
    db: DbOption = None,
    config: ConfigOption = None,
    compare: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            metavar="FILE",
            help="Also plan the days with these settings, side by side.",
            show_default=False,
        ),
    ] = None,
    not_done: Annotated[
        bool,
        typer.Option("--not-done", help="Leave each task open instead of done on its due day."),
    ] = False,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            click_type=click.Choice(("table", "json", "html")),
            help="table, json or html (the load per day, drawn).",
        ),
    ] = "table",
    output: Annotated[Path | None, OutputOption] = None,
) -> None:
    """Plan every day of a period on a throwaway copy of the data; the real database is
    never changed. Per day: the tasks per rule and per person, and what waits."""
    from rapport.config import load_settings

    with _failures_exit_1():
        other = load_settings(compare) if compare is not None else None
    with _rapport(db, config) as crm:
        result = crm.simulate(
            start,
            end,
            compare=other,
            compare_name=str(compare) if compare is not None else None,
            done_on_due_day=not not_done,
        )
        business, now = crm.settings.business.name, crm.now()
        timezone = crm.settings.business.timezone
    with _failures_exit_1(), output_file(output) as handle:
        if format == "json":
            handle.write(result.model_dump_json(indent=2) + "\n")
        elif format == "html":
            from rapport.exports.simulation_page import write_simulation_page

            write_simulation_page(
                result, handle, business=business, generated_at=now, timezone=timezone
            )
        else:
            _print_simulation(result, handle)


def _print_simulation(result: Simulation, handle: TextIO) -> None:
    """Per day the tasks per rule (and the comparison's), then the totals."""
    done = "each task done on its due day" if result.done_on_due_day else "nothing done"
    handle.write(f"simulated {result.start.isoformat()} to {result.end.isoformat()} ({done})\n")
    other = result.other
    rules = sorted({*result.totals, *(other.totals if other else {})})
    header = ("day", *rules, "tasks", "waiting", "staff")
    rows: list[tuple[str, ...]] = [header]
    others = {day.day: day for day in other.days} if other else {}

    def cell(mine: int, theirs: int | None) -> str:
        return str(mine) if theirs is None else f"{mine}/{theirs}"

    for day in result.days:
        theirs = others.get(day.day)
        rows.append(
            (
                day.day.isoformat(),
                *(
                    cell(day.rules.get(rule, 0), theirs.rules.get(rule, 0) if theirs else None)
                    for rule in rules
                ),
                cell(sum(day.rules.values()), sum(theirs.rules.values()) if theirs else None),
                cell(day.waiting, theirs.waiting if theirs else None),
                ", ".join(f"{name} {n}" for name, n in day.staff.items()) or "-",
            )
        )
    rows.append(
        (
            "total",
            *(
                cell(result.totals.get(rule, 0), other.totals.get(rule, 0) if other else None)
                for rule in rules
            ),
            cell(sum(result.totals.values()), sum(other.totals.values()) if other else None),
            "",
            "",
        )
    )
    for line in _columns(rows):
        handle.write(line + "\n")
    if other is not None:
        handle.write(f"a/b: these settings / {result.config}\n")


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    """Plain aligned columns: stable for scripts, readable for people."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _print_plan(report: PlanReport) -> None:
    mode = " (dry run: nothing written)" if report.dry_run else ""
    _out().print(
        f"plan for {report.as_of.isoformat()}, horizon {report.horizon_days} days{mode}",
        markup=False,
    )
    header = ("rule", "created", "already", "late", "missed", "moved", "waiting", "skipped")
    rows = [
        (
            name,
            str(r.created),
            str(r.already_planned),
            str(r.late),
            str(r.missed),
            str(r.moved_by_caps),
            str(r.waiting),
            ", ".join(f"{k} {v}" for k, v in r.skipped.items()) or "-",
        )
        for name, r in report.rules.items()
    ]
    for line in _columns([header, *rows]):
        _out().print(line, markup=False)
    over = {name: r.over_capacity for name, r in report.rules.items() if r.over_capacity}
    if over:
        listed = ", ".join(f"{name} {count}" for name, count in over.items())
        _out().print(f"service tasks past a person's capacity: {listed}", markup=False)
    _out().print(
        f"expired {report.expired}, cancelled {report.cancelled}, {report.duration_seconds:.2f} s",
        markup=False,
    )
    if report.dry_run:
        for task in report.tasks:
            _out().print(
                f"would create {task.occasion_key}: {task.kind.value}"
                f"{f' via {task.channel.value}' if task.channel else ''} "
                f"due {task.due_on.isoformat()}{' (late)' if task.late else ''}"
                f"{' MISSED' if task.status == 'missed' else ''}",
                markup=False,
            )


@app.command()
def outreach(
    db: DbOption = None,
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind", click_type=click.Choice(TASK_KINDS), help="Only this kind (repeatable)."
        ),
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", metavar="NAME", help="Only this staff member.")
    ] = None,
    rule: Annotated[
        list[str] | None,
        typer.Option("--rule", metavar="RULE", help="Only this rule (repeatable)."),
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            click_type=click.Choice(TASK_STATUSES),
            help="Only this status (repeatable; default planned, snoozed).",
        ),
    ] = None,
    format: Annotated[
        str,
        typer.Option(
            "--format", metavar="FORMAT", help="csv, json, html (call sheet) or ics (calls)."
        ),
    ] = "csv",
    output: Annotated[Path | None, OutputOption] = None,
) -> None:
    """The tasks due on or before as-of (late ones included), for staff or another system."""
    if format not in FORMATS:
        _err().print(
            f"error: --format must be one of {', '.join(FORMATS)}, not {format!r}", markup=False
        )
        raise typer.Exit(2)
    from rapport._errors import TemplateError
    from rapport.models.enums import OPEN_TASK_STATUSES

    with _rapport(db, config) as crm:
        try:
            with output_file(output) as handle:
                count = crm.write_outreach(
                    handle,
                    format,
                    as_of,
                    kinds=kind or (),
                    owner=owner,
                    rules=rule or (),
                    statuses=status or OPEN_TASK_STATUSES,
                )
        except TemplateError as error:
            # Never a list with a blank message: the whole list fails, the old file stays.
            kept = f"; {output} was left as it was" if output is not None else ""
            _err().print(
                f"error: {error}{kept}; fix the template (rapport templates check lists "
                "every broken one) and run this again",
                markup=False,
            )
            raise typer.Exit(1) from None
    if output is not None:
        log.info("%s tasks written to %s", count, output)


# ---------------------------------------------------------------------------- task lifecycle


@app.command()
def done(
    tasks: TasksArgument,
    db: DbOption = None,
    config: ConfigOption = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", metavar="TEXT", help="What came of it.")
    ] = None,
) -> None:
    """Mark tasks done (records the contact); `rapport done 12 13 14` closes three.

    Each task is closed on its own: one that cannot be (already done, no such id) is an
    `error:` line and exit 1, and the others are still closed."""
    from rapport._errors import RapportError

    failed = 0
    with _rapport(db, config) as crm:
        for task in dict.fromkeys(tasks):  # the same id twice is one task
            try:
                result = crm.complete_task(task, outcome=outcome)
            except RapportError as error:
                failed += 1
                _err().print(f"error: task {task}: {error}", markup=False)
                continue
            _out().print(f"task {result.id} done", markup=False)
    if failed:
        raise typer.Exit(1)


@app.command()
def skip(
    task: TaskArgument,
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why it will not be done.")
    ],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Decide not to do a task."""
    with _rapport(db, config) as crm:
        result = crm.skip_task(task, reason=reason)
    _out().print(f"task {result.id} skipped", markup=False)


@app.command()
def snooze(
    task: TaskArgument,
    until: Annotated[
        dt.date,
        typer.Option(
            "--until", parser=_parse_day, metavar="DATE", help="The new day (YYYY-MM-DD)."
        ),
    ],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Put a task off to a later day inside its window."""
    with _rapport(db, config) as crm:
        result = crm.snooze_task(task, until=until)
    _out().print(f"task {result.id} snoozed until {result.due_on.isoformat()}", markup=False)


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
        _out().print_json(profile.model_dump_json())
    else:
        _print_profile(profile)


@customer_app.command("export")
def customer_export(
    external_id: Annotated[str, typer.Argument(help="The customer's external id.")],
    db: DbOption = None,
    config: ConfigOption = None,
    output: Annotated[Path | None, OutputOption] = None,
) -> None:
    """Every row about the customer as one JSON document (data access and portability)."""
    with _rapport(db, config) as crm:
        document = crm.export_customer(external_id)
    with _failures_exit_1(), output_file(output) as handle:
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
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask (for scripts, which must say it).")
    ] = False,
) -> None:
    """Erase the customer's personal data (keeps anonymous totals); safe to repeat.

    It cannot be undone, so on a terminal it asks first; a script passes --yes."""
    if not yes:
        if not sys.stdin.isatty():
            _err().print(
                "error: erasing cannot be undone; pass --yes to erase without a terminal "
                "to confirm on",
                markup=False,
            )
            raise typer.Exit(2)
        if not typer.confirm(
            f"Erase the personal data of customer {external_id}? This cannot be undone"
        ):
            _err().print("nothing erased", markup=False)
            raise typer.Exit(1)
    with _rapport(db, config) as crm:
        erased = crm.erase_customer(external_id)
    _out().print(
        f"customer {external_id} {'erased' if erased else 'was already erased'}", markup=False
    )


# ---------------------------------------------------------------------------- templates, report


@templates_app.command("check")
def templates_check(config: ConfigOption = None) -> None:
    """Render every template in every language with sample data; exit 1 if any fails."""
    from rapport.config import load_settings
    from rapport.rules import rule_classes
    from rapport.templates.check import check_templates
    from rapport.templates.render import Renderer

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
        _err().print(f"FAIL {result.template}: {result.error}", markup=False)
    _out().print(
        f"{len(results) - len(failures)} of {len(results)} templates render correctly",
        markup=False,
    )
    if failures:
        raise typer.Exit(1)


@app.command()
def report(
    db: DbOption = None,
    config: ConfigOption = None,
    start: Annotated[
        dt.date | None,
        typer.Option(
            "--from",
            parser=_parse_day,
            metavar="DATE",
            help="First due day (default: 30 days ago).",
        ),
    ] = None,
    end: Annotated[
        dt.date | None,
        typer.Option(
            "--to", parser=_parse_day, metavar="DATE", help="Last due day (default: today)."
        ),
    ] = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            click_type=click.Choice(("table", "json", "html")),
            help="table, json or html (a page with charts).",
        ),
    ] = "table",
    as_json: JsonOption = False,
    output: Annotated[Path | None, OutputOption] = None,
) -> None:
    """Service metrics: tasks per rule, coverage, complaints, promises, surveys, staff load."""
    from rapport.exports import rule_labels
    from rapport.exports.report_page import write_report_page

    format = "json" if as_json else format
    with _rapport(db, config) as crm:
        last = end or crm.today()
        first = start or last - dt.timedelta(days=30)
        if first > last:
            _err().print("error: --from is after --to", markup=False)
            raise typer.Exit(2)
        result = crm.report(first, last)
        business, now = crm.settings.business.name, crm.now()
        timezone = crm.settings.business.timezone
        labels = rule_labels(crm.planner.catalog)
    with _failures_exit_1(), output_file(output) as handle:
        if format == "json":
            # Without staff the document stays as it was before staff existed.
            hidden = {"staff"} if result.staff is None else None
            handle.write(result.model_dump_json(indent=2, exclude=hidden) + "\n")
        elif format == "html":
            write_report_page(
                result,
                handle,
                business=business,
                generated_at=now,
                timezone=timezone,
                labels=labels,
            )
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
    if result.staff is not None:
        lines += ["", *_report_staff_lines(result.staff)]
    handle.write("\n".join(lines) + "\n")


def _report_staff_lines(staff: StaffMetrics) -> list[str]:
    """Each person's tasks due over the report's days against their capacity."""
    header = ("person", "working days", "due / capacity", "days over")
    rows = [
        (
            person.name,
            str(person.working_days),
            _due_against_capacity(person.due, person.capacity),
            str(person.days_over),
        )
        for person in staff.people
    ]
    return [
        "staff load: tasks due (to do or done) against the capacity of their working days",
        *_columns([header, *rows]),
        *_backlog_lines(staff.waiting, staff.waiting_since),
    ]


def _due_against_capacity(due: dict[str, int], capacity: dict[str, int]) -> str:
    """``call 40/44, card 3/66, note 5``: limited kinds first, then the others due."""
    parts = [f"{kind} {due.get(kind, 0)}/{limit}" for kind, limit in capacity.items()]
    parts += [f"{kind} {n}" for kind, n in sorted(due.items()) if kind not in capacity]
    return ", ".join(parts) or "-"


def _backlog_lines(waiting: dict[str, int], since: dt.date | None) -> list[str]:
    if not waiting:
        return ["backlog: nothing waits for room"]
    total = sum(waiting.values())
    oldest = f", the oldest since {since.isoformat()}" if since else ""
    rows = [(rule, str(n)) for rule, n in waiting.items()]
    return [
        f"backlog: {total} waiting for room{oldest}",
        *_columns([("rule", "waiting"), *rows]),
    ]


# ---------------------------------------------------------------------------- staff


@app.command()
def staff(
    db: DbOption = None,
    config: ConfigOption = None,
    start: Annotated[
        dt.date | None,
        typer.Option(
            "--from", parser=_parse_day, metavar="DATE", help="First day (default: today)."
        ),
    ] = None,
    days: Annotated[int, typer.Option("--days", metavar="N", help="How many days, 1 to 366.")] = 7,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            click_type=click.Choice(("table", "json", "html")),
            help="table, json or html (a chart to read at a glance).",
        ),
    ] = "table",
    as_json: JsonOption = False,
    output: Annotated[Path | None, OutputOption] = None,
) -> None:
    """Each staff member's tasks due per day against capacity, and the backlog waiting."""
    if not 1 <= days <= MAX_STAFF_DAYS:
        _err().print(f"error: --days must be from 1 to {MAX_STAFF_DAYS}, not {days}", markup=False)
        raise typer.Exit(2)
    from rapport.exports import rule_labels
    from rapport.exports.staff_page import write_staff_page

    format = "json" if as_json else format
    with _rapport(db, config) as crm:
        load = crm.staff_load(start, days)
        business, now = crm.settings.business.name, crm.now()
        timezone = crm.settings.business.timezone
        labels = rule_labels(crm.planner.catalog)
    with _failures_exit_1(), output_file(output) as handle:
        if format == "json":
            handle.write(load.model_dump_json(indent=2) + "\n")
        elif format == "html":
            write_staff_page(
                load,
                handle,
                business=business,
                generated_at=now,
                timezone=timezone,
                labels=labels,
            )
        else:
            _print_staff(load, handle)


def _print_staff(load: StaffLoad, handle: TextIO) -> None:
    """One line per person and day (the name repeated, so a script can grep it)."""
    from rapport.exports.staff_page import day_fill, kind_loads, weekday_name

    last = load.start + dt.timedelta(days=load.days - 1)
    period = f"{load.start.isoformat()} to {last.isoformat()}"
    if load.staff:
        lines = [f"staff load {period}: tasks due / capacity per day"]
        rows: list[tuple[str, ...]] = [("person", "day", "due / capacity", "flag")]
        for person in load.staff:
            for day in person.days:
                kinds = kind_loads(day)
                fill = day_fill(kinds)
                flags = (
                    [f"{fill}: {', '.join(k.kind for k in kinds if k.fill == fill)}"]
                    if fill
                    else []
                )
                shown = ", ".join(str(kind) for kind in kinds)
                if not day.working:
                    flags.insert(0, "day off")
                rows.append(
                    (
                        person.name,
                        f"{weekday_name(day.day)} {day.day.isoformat()}",
                        shown or "-",
                        ", ".join(flags),
                    )
                )
        lines += _columns(rows)
    else:
        lines = [
            "no staff configured: tasks are not planned by capacity; add a [[staff]] entry "
            "per person to rapport.toml (see docs/configuration.md)"
        ]
    lines += ["", *_backlog_lines(load.waiting, load.waiting_since)]
    unassigned = ", ".join(f"{kind} {n}" for kind, n in load.unassigned.items()) or "none"
    lines.append(f"due {period} to nobody on staff: {unassigned}")
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
    """Build a demo customer base, plan today's outreach, and write the call sheet.

    The demo business is saved as rapport.toml beside the database, so the commands
    suggested at the end work on the demo as it was planned."""
    from rapport._api import Rapport
    from rapport.config import load_settings, sqlite_url_relative_to
    from rapport.demo import (
        demo_cases,
        demo_customers,
        demo_interactions,
        demo_promises,
        demo_purchases,
        write_demo_settings,
    )

    folder = Path(tempfile.mkdtemp(prefix="rapport-demo-"))
    # A relative SQLite file in rapport.toml is relative to rapport.toml itself; one
    # given with --db is relative to the current folder.
    url = sqlite_url_relative_to(db, Path.cwd()) if db else "sqlite:///rapport-demo.db"
    settings_file = write_demo_settings(folder, url)
    with _failures_exit_1():
        settings = load_settings(settings_file)
    db = settings.database
    assert db is not None
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
        with output_file(sheet) as handle:
            crm.write_outreach(handle, "html", as_of)

    _out().print(
        f"Demo database: {_safe(db)}\n"
        f"{len(people)} customers, {len(purchases)} purchases, {len(contacts)} interactions "
        f"(seed {seed})\n",
        markup=False,
    )
    _print_plan(result)
    from rich.table import Table

    shown = f"first 10 of {len(rows)}" if len(rows) > 10 else f"{len(rows)} tasks"
    table = Table(title=f"Outreach due by {as_of.isoformat()} ({shown})")
    for column in ("task", "due", "kind", "customer", "owner", "reason"):
        table.add_column(column)
    for row in rows[:10]:
        table.add_row(
            str(row.task_id),
            row.due_on.isoformat() + (" late" if row.late else ""),
            row.kind.value,
            _escape(row.customer_name),
            _escape(row.owner or ""),
            _escape(row.reason),
        )
    _out().print()
    _out().print(table)
    _out().print(f"\nCall sheet: {sheet}\nSettings: {settings_file}", markup=False)
    _out().print(
        f"Try: rapport outreach --config {settings_file} --format csv\n"
        f"     rapport customer show {rows[0].customer_id if rows else 'DEMO-00001'} "
        f"--config {settings_file}",
        markup=False,
    )


def _in_batches(
    label: str, rows: list[dict[str, Any]], write: Callable[[Iterable[Any]], object]
) -> None:
    """Write rows a batch at a time, with a progress bar on a terminal only."""
    from rich.progress import Progress

    size = 1000
    with Progress(console=_err(), transient=True, disable=not _err().is_terminal) as progress:
        bar = progress.add_task(label, total=len(rows))
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            write(batch)
            progress.advance(bar, len(batch))


_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _readable_day(day: PartialDate | dt.date) -> str:
    """``2 December 1980``, or ``2 December`` when the year is unknown (not ``--12-02``)."""
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if day.year is not None else text


def _address(profile: CustomerProfile) -> str:
    town = " ".join(part for part in (profile.postal_code, profile.city) if part)
    parts = (profile.address_line1, profile.address_line2, town, profile.country)
    return ", ".join(part for part in parts if part)


def _print_profile(profile: CustomerProfile) -> None:
    """The profile for a person to read. Every value is the customer's data, so none of
    it goes through Rich markup: a name like ``[link=...]`` prints as written."""
    name = " ".join(n for n in (profile.first_name, profile.last_name) if n)
    heading = _escape(name or profile.external_id)
    _out().print(f"[bold]{heading}[/bold] ({_escape(profile.external_id)})")
    lines = [
        ("Greet as", profile.display_name),
        ("Email", profile.email),
        ("Phone", profile.phone),
        ("Address", _address(profile)),
        ("Language", profile.language),
        ("Birthday", _readable_day(profile.birthday) if profile.birthday else None),
        ("Customer since", profile.customer_since.isoformat() if profile.customer_since else None),
        ("Owner", profile.owner),
        ("Tags", ", ".join(profile.tags)),
        ("Interests", ", ".join(i.topic for i in profile.interests)),
        (
            "Family",
            ", ".join(
                f"{m.name} ({m.relation.value}"
                + (f", born {_readable_day(m.birthday)})" if m.birthday else ")")
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
            _out().print(f"  {label + ':':<22}{value}", markup=False)
    for purchase in profile.recent_purchases[:5]:
        _out().print(
            f"  - {purchase.occurred_at.date().isoformat()} {purchase.description or ''} "
            f"{purchase.amount:.2f} {purchase.currency} ({purchase.status.value})",
            markup=False,
        )


def _version(value: bool) -> None:
    if value:
        from rapport import __version__

        typer.echo(f"rapport {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            metavar="",
            show_default=False,
            help="Log more to standard error (-vv: everything).",
        ),
    ] = 0,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help=f"Show the traceback of a failure (also ${DEBUG_VARIABLE}=1)."
        ),
    ] = False,
) -> None:
    """Remember your customers, and reach out at the right moment."""
    _state["debug"] = debug
    everything = debug or verbose > 1 or _debugging()
    _configure_logging(None if everything else logging.INFO if verbose else logging.WARNING)


def _configure_logging(rapport_level: int | None) -> None:
    """Log lines to standard error: warnings only by default, so a cron job's mail stays
    empty when all is well; rapport's own INFO lines with ``-v``; everything (SQLAlchemy,
    Alembic) at DEBUG with ``-vv`` or ``--debug`` (``rapport_level`` None). A process that
    configured logging already (a test runner) keeps its handlers."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    if rapport_level is None:
        root.setLevel(logging.DEBUG)
        logging.getLogger("rapport").setLevel(logging.DEBUG)
    else:
        root.setLevel(logging.WARNING)
        logging.getLogger("rapport").setLevel(rapport_level)


def main() -> None:
    """Entry point of the ``rapport`` console script and of ``python -m rapport``."""
    app(prog_name="rapport")


if __name__ == "__main__":  # pragma: no cover
    main()
