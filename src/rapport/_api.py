"""``Rapport``: the object a host app talks to.

It validates input at the boundary (pydantic), runs each operation in a transaction, and
hands back detached pydantic objects. It works in three ways:

* ``Rapport.from_url(url)`` — rapport builds and owns the engine (``close()`` disposes it);
* ``Rapport(engine)`` — each call runs in its own transaction on the host's engine;
* ``Rapport(session)`` — each call joins the host's session and never commits: the
  host's transaction decides whether rapport's writes are kept.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, TypeVar

import pydantic
from sqlalchemy import Engine, exc
from sqlalchemy.orm import Session, scoped_session

from rapport import database
from rapport._errors import (
    ConfigError,
    DatabaseError,
    FieldProblem,
    ImportRejected,
    InvalidInputError,
    RapportError,
    SchemaError,
    field_problems,
)
from rapport.config import Settings
from rapport.explain import Explanation, explain
from rapport.exports import OutreachRow, outreach_rows, rule_labels
from rapport.exports.call_sheet import write_call_sheet
from rapport.exports.csv_list import write_csv
from rapport.exports.ics_calendar import ics_bytes
from rapport.exports.json_list import write_json
from rapport.importing import ImportKind, ImportResult, RowProblem, import_file
from rapport.messages import MessagePreview, render_tasks, words_of
from rapport.metrics import OutreachReport, outreach_report
from rapport.models.enums import (
    OPEN_TASK_STATUSES,
    Channel,
    ConsentState,
    PromiseStatus,
    TaskKind,
    TaskStatus,
)
from rapport.models.schemas import (
    CaseIn,
    CaseOut,
    ConsentChangeOut,
    ConsentIn,
    CustomerIn,
    CustomerOut,
    CustomerProfile,
    FamilyMemberIn,
    FamilyMemberOut,
    ImportantDateIn,
    ImportantDateOut,
    InteractionIn,
    InteractionOut,
    InterestIn,
    InterestOut,
    PromiseIn,
    PromiseOut,
    PurchaseIn,
    PurchaseOut,
    SurveyAnswerOut,
    SurveyIn,
    TaskOut,
)
from rapport.models.values import CurrencyCode, Timestamp
from rapport.planner import Planner, PlanReport, Shard
from rapport.privacy import erase_customer, export_customer
from rapport.rules import CheckInCall, Rule
from rapport.simulate import Simulation, simulate
from rapport.staffing import StaffLoad, staff_load
from rapport.store import CustomerOrder, Store, TaskWords, WriteSummary
from rapport.store.tasks import task_contact
from rapport.templates.render import Renderer

_M = TypeVar("_M", bound=pydantic.BaseModel)
_T = TypeVar("_T")

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The default clock: the current time in UTC."""
    return dt.datetime.now(dt.UTC)


def validate(model: type[_M], data: _M | Mapping[str, Any], *, subject: str | None = None) -> _M:
    """Validate ``data`` as ``model``, raising :class:`InvalidInputError` with every problem."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        subject = subject or _subject(model, data)
        raise InvalidInputError(field_problems(error), subject=subject) from None


def _subject(model: type[pydantic.BaseModel], data: object) -> str | None:
    """Name the record in an error message: "customer 'C-17'", "purchase 'P-9'"."""
    if not isinstance(data, Mapping):
        return None
    kind = model.__name__.removesuffix("In").lower()
    if isinstance(data.get("external_id"), str):
        return f"{kind} {data['external_id']!r}"
    if isinstance(data.get("customer_id"), str):
        return f"{kind} for customer {data['customer_id']!r}"
    return None


def _validate_all(model: type[_M], items: Iterable[_M | Mapping[str, Any]]) -> list[_M]:
    """Validate a batch; report every bad item (by position) before anything is written."""
    valid: list[_M] = []
    problems: list[FieldProblem] = []
    for index, item in enumerate(items):
        try:
            valid.append(validate(model, item))
        except InvalidInputError as error:
            where = f"[{index}]" + (f" ({error.subject})" if error.subject else "")
            problems.extend(
                FieldProblem(f"{where} {p.field}", p.value, p.reason) for p in error.problems
            )
    if problems:
        raise InvalidInputError(problems)
    return valid


class Rapport:
    """Customer profiles, history and consent, stored in the caller's database.

    ``currency`` is the business currency (money rollups count it); ``clock`` supplies
    "now" for timestamps the caller does not give, so tests and replays can fix time.
    """

    def __init__(
        self,
        bind: Engine | Session | scoped_session[Any],
        *,
        settings: Settings | None = None,
        rules: Sequence[type[Rule]] = (),
        currency: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        settings = settings if settings is not None else Settings()
        if currency is not None:
            business = settings.business.model_copy(
                update={"currency": validate(_Currency, {"currency": currency}).currency}
            )
            settings = settings.model_copy(update={"business": business})
        self.settings = settings
        self.currency = settings.business.currency
        self.planner = Planner(settings, rules)
        self._extra_rules = tuple(rules)
        self.renderer = Renderer(
            user_dirs=[settings.templates_dir] if settings.templates_dir else [],
            default_language=settings.business.language,
            rules=self.planner.catalog,
        )
        self._clock = clock
        self._owns_engine = False
        # A scoped_session (Flask-SQLAlchemy's ``db.session``) is kept as the registry and
        # asked for its current session on every call, so one Rapport made at start-up
        # works inside each request's (or thread's) own session.
        if isinstance(bind, Session | scoped_session):
            self._host_session: Session | scoped_session[Any] | None = bind
            self._engine: Engine | None = None
        elif isinstance(bind, Engine):
            self._host_session = None
            self._engine = bind
        else:
            raise TypeError(
                f"Rapport needs a SQLAlchemy Engine, Session or scoped_session, not "
                f"{type(bind).__name__}; use Rapport.from_url() for a database URL"
            )

    @property
    def _session(self) -> Session | None:
        """The host's session for this call: a scoped_session's current one, resolved now."""
        if isinstance(self._host_session, scoped_session):
            session: Session = self._host_session()
            return session
        return self._host_session

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        settings: Settings | None = None,
        rules: Sequence[type[Rule]] = (),
        currency: str | None = None,
        clock: Clock = utc_now,
    ) -> Rapport:
        """Connect to ``url`` with an engine that this object owns and ``close()`` disposes."""
        rapport = cls(
            database.create_engine(url),
            settings=settings,
            rules=rules,
            currency=currency,
            clock=clock,
        )
        rapport._owns_engine = True
        return rapport

    def close(self) -> None:
        """Dispose of the engine if this object created it; a host's engine is left open."""
        if self._owns_engine and self._engine is not None:
            self._engine.dispose()

    def __enter__(self) -> Rapport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    def today(self) -> dt.date:
        """Today in the business's timezone, by this object's clock."""
        return self.now().astimezone(zoneinfo.ZoneInfo(self.settings.business.timezone)).date()

    def now(self) -> dt.datetime:
        """The current time from this object's clock, in UTC."""
        now = self._clock()
        if now.tzinfo is None:
            raise RapportError("the clock returned a naive datetime; it must be timezone-aware")
        return now.astimezone(dt.UTC)

    def _new_store(self, session: Session) -> Store:
        timezone = self.settings.business.timezone
        return Store(session, currency=self.currency, timezone=timezone)

    @contextmanager
    def _store(self) -> Iterator[Store]:
        """A store on the host's session (no commit) or on a new transaction of our own."""
        try:
            if self._session is not None:
                yield Store(
                    self._session, currency=self.currency, timezone=self.settings.business.timezone
                )
                self._session.flush()
            else:
                assert self._engine is not None
                with Session(self._engine, expire_on_commit=False) as session, session.begin():
                    yield Store(
                        session, currency=self.currency, timezone=self.settings.business.timezone
                    )
        except exc.SQLAlchemyError as error:
            raise _database_error(error) from error

    def migrate(self) -> None:
        """Create or upgrade rapport's tables (in the host's transaction when given one)."""
        try:
            if self._session is not None:
                database.migrate(self._session.connection())
            else:
                assert self._engine is not None
                database.migrate(self._engine)
        except exc.SQLAlchemyError as error:
            raise _database_error(error) from error

    def check_schema(self) -> None:
        """Raise :class:`SchemaError` unless the database is at rapport's newest migration."""
        if self._session is not None:
            database.require_current_schema(self._session.connection())
            return
        assert self._engine is not None
        with self._engine.connect() as connection:
            database.require_current_schema(connection)

    # ------------------------------------------------------------------ customers

    def upsert_customer(self, customer: CustomerIn | Mapping[str, Any]) -> CustomerOut:
        """Create the customer, or update the fields given, keyed by ``external_id``."""
        valid = validate(CustomerIn, customer)
        with self._store() as store:
            store.upsert_customers([valid], self.now())
            self._reconcile(store, [valid.external_id])
            return store.get_customer(valid.external_id)

    def upsert_customers(self, customers: Iterable[CustomerIn | Mapping[str, Any]]) -> WriteSummary:
        """Upsert many customers in one transaction; any invalid one rejects the batch."""
        valid = _validate_all(CustomerIn, customers)
        with self._store() as store:
            summary = store.upsert_customers(valid, self.now())
            self._reconcile(store, [customer.external_id for customer in valid])
            return summary

    def get_customer(self, external_id: str) -> CustomerOut:
        with self._store() as store:
            return store.get_customer(external_id)

    def get_profile(self, external_id: str, *, recent: int = 10) -> CustomerProfile:
        """Everything to know before contacting the customer, with the ``recent`` latest
        purchases and interactions."""
        with self._store() as store:
            return store.profile(external_id, now=self.now(), recent=recent)

    def find_customers(
        self,
        *,
        tag: str | None = None,
        interest: str | None = None,
        owner: str | None = None,
        order_by: CustomerOrder = "external_id",
        limit: int = 100,
        offset: int = 0,
    ) -> list[CustomerOut]:
        """Customers with this tag, interest (any letter case) and owner.

        ``order_by`` is ``"external_id"``, or ``"spend_365d"`` / ``"lifetime_value"`` for
        the biggest spenders first.
        """
        with self._store() as store:
            return store.find_customers(
                tag=tag,
                interest=interest,
                owner=owner,
                order_by=order_by,
                limit=limit,
                offset=offset,
            )

    def add_interest(
        self, external_id: str, interest: InterestIn | Mapping[str, Any] | str
    ) -> InterestOut:
        data = {"topic": interest} if isinstance(interest, str) else interest
        valid = validate(InterestIn, data, subject=f"customer {external_id!r}")
        with self._store() as store:
            return store.add_interest(external_id, valid)

    def remove_interest(self, external_id: str, topic: str) -> None:
        with self._store() as store:
            store.remove_interest(external_id, topic)

    def add_family_member(
        self, external_id: str, member: FamilyMemberIn | Mapping[str, Any]
    ) -> FamilyMemberOut:
        valid = validate(FamilyMemberIn, member, subject=f"customer {external_id!r}")
        with self._store() as store:
            return store.add_family_member(external_id, valid)

    def remove_family_member(self, external_id: str, member_id: int) -> None:
        with self._store() as store:
            store.remove_family_member(external_id, member_id)

    def add_important_date(
        self, external_id: str, date: ImportantDateIn | Mapping[str, Any]
    ) -> ImportantDateOut:
        """Remember a date; one with the same label is replaced."""
        valid = validate(ImportantDateIn, date, subject=f"customer {external_id!r}")
        with self._store() as store:
            return store.add_important_date(external_id, valid)

    def remove_important_date(self, external_id: str, date_id: int) -> None:
        with self._store() as store:
            store.remove_important_date(external_id, date_id)

    # ------------------------------------------------------------------ history

    def record_purchase(self, purchase: PurchaseIn | Mapping[str, Any]) -> PurchaseOut:
        """Record a purchase; the same ``external_id`` again returns the stored purchase."""
        valid = validate(PurchaseIn, purchase)
        with self._store() as store:
            stored = store.record_purchase(valid, self.now())
            self._reconcile(store, [valid.customer_id])
            return stored

    def record_purchases(self, purchases: Iterable[PurchaseIn | Mapping[str, Any]]) -> WriteSummary:
        """Record many purchases in one transaction; already-known ids are counted unchanged."""
        valid = _validate_all(PurchaseIn, purchases)
        with self._store() as store:
            summary = store.record_purchases(valid, self.now())
            self._reconcile(store, [p.customer_id for p in valid])
            return summary

    def get_purchase(self, purchase_external_id: str) -> PurchaseOut:
        """One purchase, by the host app's purchase id."""
        with self._store() as store:
            return store.get_purchase(purchase_external_id)

    def refund_purchase(
        self, purchase_external_id: str, *, at: dt.datetime | None = None
    ) -> PurchaseOut:
        """Mark a purchase refunded: it leaves the customer's spend and purchase count."""
        when = self._timestamp(at, "at")
        with self._store() as store:
            refunded = store.refund_purchase(purchase_external_id, when)
            self._reconcile(store, [refunded.customer_id])
            return refunded

    def record_interaction(self, interaction: InteractionIn | Mapping[str, Any]) -> InteractionOut:
        valid = validate(InteractionIn, interaction)
        with self._store() as store:
            stored = store.record_interaction(valid, self.now())
            self._reconcile(store, [valid.customer_id])
            return stored

    def record_interactions(
        self, interactions: Iterable[InteractionIn | Mapping[str, Any]]
    ) -> WriteSummary:
        valid = _validate_all(InteractionIn, interactions)
        with self._store() as store:
            summary = store.record_interactions(valid, self.now())
            self._reconcile(store, [i.customer_id for i in valid])
            return summary

    def open_case(self, case: CaseIn | Mapping[str, Any]) -> CaseOut:
        valid = validate(CaseIn, case)
        with self._store() as store:
            return store.open_case(valid)

    def resolve_case(
        self,
        case_id: int,
        *,
        at: dt.datetime | None = None,
        resolution: str | None = None,
        on_first_contact: bool | None = None,
        satisfaction_score: int | None = None,
    ) -> CaseOut:
        """Close a case; ``on_first_contact`` and the 1-5 ``satisfaction_score`` feed metrics."""
        when = self._timestamp(at, "at")
        if satisfaction_score is not None and not 1 <= satisfaction_score <= 5:
            raise InvalidInputError(
                [
                    FieldProblem(
                        "satisfaction_score",
                        satisfaction_score,
                        f"score {satisfaction_score} is not between 1 and 5",
                    )
                ],
                subject=f"case {case_id}",
            )
        with self._store() as store:
            resolved = store.resolve_case(
                case_id,
                at=when,
                resolution=resolution,
                on_first_contact=on_first_contact,
                satisfaction_score=satisfaction_score,
            )
            self._reconcile(store, [resolved.customer_id])
            return resolved

    def create_promise(self, promise: PromiseIn | Mapping[str, Any]) -> PromiseOut:
        valid = validate(PromiseIn, promise)
        with self._store() as store:
            return store.create_promise(valid, self.now())

    def keep_promise(
        self, promise_id: int, *, at: dt.datetime | None = None, note: str | None = None
    ) -> PromiseOut:
        return self._close_promise(promise_id, PromiseStatus.KEPT, at, note)

    def break_promise(
        self, promise_id: int, *, at: dt.datetime | None = None, note: str | None = None
    ) -> PromiseOut:
        return self._close_promise(promise_id, PromiseStatus.BROKEN, at, note)

    def renegotiate_promise(
        self,
        promise_id: int,
        *,
        new_due_at: dt.datetime,
        at: dt.datetime | None = None,
        note: str | None = None,
    ) -> PromiseOut:
        """Mark the promise renegotiated and return the new open promise with the new date."""
        due = self._timestamp(new_due_at, "new_due_at")
        when = self._timestamp(at, "at")
        with self._store() as store:
            renewed = store.renegotiate_promise(promise_id, new_due_at=due, at=when, note=note)
            self._reconcile(store, [renewed.customer_id])
            return renewed

    def _close_promise(
        self, promise_id: int, status: PromiseStatus, at: dt.datetime | None, note: str | None
    ) -> PromiseOut:
        when = self._timestamp(at, "at")
        with self._store() as store:
            closed = store.close_promise(promise_id, status, at=when, note=note)
            self._reconcile(store, [closed.customer_id])
            return closed

    def record_survey(
        self,
        score: int,
        *,
        comment: str | None = None,
        task_id: int | None = None,
        case_id: int | None = None,
        at: dt.datetime | None = None,
    ) -> SurveyAnswerOut:
        """Record a customer's survey answer (1-5) for a task, a case, or both.

        The answer is kept as history; a case also gets it as its satisfaction score, and
        a survey task still open is marked done.
        """
        valid = validate(
            SurveyIn,
            {"score": score, "comment": comment, "task_id": task_id, "case_id": case_id},
            subject="survey answer",
        )
        when = self._timestamp(at, "at")
        with self._store() as store:
            return store.record_survey(valid, when)

    # ------------------------------------------------------------------ consent

    def set_consent(
        self,
        external_id: str,
        channel: Channel | str,
        state: ConsentState | str,
        *,
        source: str | None = None,
        at: dt.datetime | None = None,
    ) -> CustomerOut:
        """Record what the customer said about a channel, and where; changes are logged."""
        valid = validate(
            ConsentIn,
            {"channel": channel, "state": state, "source": source, "at": at},
            subject=f"customer {external_id!r}",
        )
        with self._store() as store:
            customer = store.set_consent(external_id, valid, self.now())
            self._reconcile(store, [external_id])
            return customer

    def set_do_not_contact(
        self,
        external_id: str,
        value: bool = True,
        *,
        source: str | None = None,
        at: dt.datetime | None = None,
    ) -> CustomerOut:
        """Stop (or allow again) all outreach to the customer, whatever the channel consent."""
        when = self._timestamp(at, "at") if at is not None else None
        with self._store() as store:
            customer = store.set_do_not_contact(
                external_id, value, source=source, at=when, now=self.now()
            )
            self._reconcile(store, [external_id])
            return customer

    def consent_log(self, external_id: str) -> list[ConsentChangeOut]:
        """Every consent and do-not-contact change for the customer, oldest first."""
        with self._store() as store:
            return store.consent_log(external_id)

    # ------------------------------------------------------------------ rollups

    def refresh_rollups(self, as_of: dt.date) -> int:
        """Age the trailing-365-day spend forward to ``as_of``; the planner calls this daily.

        Returns the number of customers whose spend changed.
        """
        with self._store() as store:
            return store.refresh_trailing_spend(as_of, self.now())

    # ------------------------------------------------------------------ planning

    def plan(
        self,
        as_of: dt.date | None = None,
        *,
        horizon_days: int | None = None,
        dry_run: bool = False,
        shard: Shard | str | None = None,
    ) -> PlanReport:
        """Run the rules: create the tasks due by ``as_of + horizon_days``.

        Planning stores occasions, not words: messages are rendered when a task is
        previewed or listed, and recorded when it is done.

        ``as_of`` defaults to today in the business timezone. Safe to repeat: an occasion
        already planned is counted, never planned twice. ``dry_run`` writes nothing and
        lists the tasks it would create in ``report.tasks``. ``shard`` (``"2/4"``) plans
        only that shard's customers, so several workers can share a day's planning.
        """
        day = as_of if as_of is not None else self.today()
        part = Shard.parse(shard) if isinstance(shard, str) else shard
        with self._store() as store:
            report = self.planner.plan(
                store.session,
                as_of=day,
                now=self.now(),
                horizon_days=horizon_days,
                dry_run=dry_run,
                shard=part,
            )
            return report

    def explain(self, customer_id: str, as_of: dt.date | None = None) -> Explanation:
        """Why the customer gets, or does not get, each enabled rule's contact on
        ``as_of`` (default today): one verdict per rule's occasion, with the reason and
        the numbers behind it. The planner's own decisions, narrowed to the customer;
        nothing is written. See docs/tuning.md."""
        day = as_of if as_of is not None else self.today()
        with self._store() as store:
            return explain(
                self.planner, store.session, store, customer_id, as_of=day, now=self.now()
            )

    def simulate(
        self,
        start: dt.date,
        end: dt.date,
        *,
        compare: Settings | None = None,
        compare_name: str | None = None,
        done_on_due_day: bool = True,
    ) -> Simulation:
        """Plan every day from ``start`` to ``end`` on a throwaway copy of the data (a
        copied SQLite file, or a PostgreSQL transaction rolled back): per day the tasks
        on the list per rule and per person, and what waits for staff. ``compare`` plans
        the same days with other settings on a copy of its own (``compare_name`` says
        which, in the result). The real database is never changed. See docs/tuning.md.

        With a host's session, the copy is of what is committed: the session's own
        uncommitted rows are not in it."""
        engine = self._engine
        if engine is None:
            assert self._session is not None
            bind = self._session.get_bind()
            engine = bind if isinstance(bind, Engine) else bind.engine
        try:
            result = simulate(engine, self.planner, start, end, done_on_due_day=done_on_due_day)
            if compare is None:
                return result
            other = simulate(
                engine,
                Planner(compare, self._extra_rules),
                start,
                end,
                done_on_due_day=done_on_due_day,
            )
        except exc.SQLAlchemyError as error:
            raise _database_error(error) from error
        return result.model_copy(update={"other": other, "config": compare_name})

    def preview(self, task: TaskOut | int) -> MessagePreview:
        """Render one task as it would be written now, without storing anything."""
        [preview] = self.previews([task])
        return preview

    def previews(self, tasks: Iterable[TaskOut | int]) -> list[MessagePreview]:
        """Render these tasks as they would be written now, in the order given, without
        storing anything; each customer's facts are read once for all their tasks.

        Raises :class:`NotFoundError` for an unknown task and :class:`TemplateError`
        (naming the template and the task) when a template fails.
        """
        task_ids = [task if isinstance(task, int) else task.id for task in tasks]
        with self._store() as store:
            rendered = render_tasks(
                store.session, self.renderer, self.settings, task_ids, today=self.today()
            )
            return [MessagePreview.from_rendered(result) for result in rendered]

    def get_task(self, task_id: int) -> TaskOut:
        """One task, with what became of it."""
        with self._store() as store:
            return store.get_task(task_id)

    def find_tasks(
        self,
        *,
        customer_id: str | None = None,
        rule: str | None = None,
        status: TaskStatus | str | Iterable[TaskStatus | str] | None = None,
        due_by: dt.date | None = None,
    ) -> list[TaskOut]:
        """Tasks by customer, rule, status(es) and due day, soonest first."""
        statuses = None
        if status is not None:
            given = [status] if isinstance(status, str) else list(status)
            statuses = [TaskStatus(s) for s in given]
        with self._store() as store:
            return store.find_tasks(
                customer_id=customer_id, rule=rule, statuses=statuses, due_by=due_by
            )

    def complete_task(
        self,
        task_id: int,
        *,
        outcome: str | None = None,
        at: dt.datetime | None = None,
        staff: str | None = None,
    ) -> TaskOut:
        """Mark a task done, keep the words the customer got, and record the contact as an
        interaction.

        The words (message or call script, and talking points) are rendered now, from the
        templates and data as they are, before anything changes: they are what the
        customer got, and the task keeps them as history. A template that fails raises
        :class:`TemplateError` and the task stays open: fix the template, then mark it
        done again. The interaction moves the customer's last contact, so a check-in
        cycle starts over; a reminder for staff (kind ``reminder``) records none, as
        nobody was contacted.
        """
        when = self._timestamp(at, "at")
        with self._store() as store:
            words = self._words_if_open(store, task_id)
            task, external_id = store.change_task(
                task_id, TaskStatus.DONE, now=when, outcome=outcome
            )
            if words is not None:
                store.record_task_words(task_id, words, at=self.now())
            contact = task_contact(
                task_id=task.id,
                customer_id=external_id,
                kind=task.kind,
                rule=task.rule,
                staff=staff or task.assigned_to,
                at=when,
                summary=outcome,
            )
            if contact is not None:
                store.record_interactions([contact], self.now())
            self._reconcile(store, [external_id])
            return store.get_task(task_id)

    def skip_task(self, task_id: int, *, reason: str) -> TaskOut:
        """Decide not to do a task; the reason is kept with it."""
        if not reason.strip():
            raise InvalidInputError([FieldProblem("reason", reason, "is empty; say why")])
        with self._store() as store:
            store.change_task(task_id, TaskStatus.SKIPPED, now=self.now(), reason=reason)
            return store.get_task(task_id)

    def snooze_task(self, task_id: int, *, until: dt.date) -> TaskOut:
        """Put a task off to ``until``, which must be inside the task's window."""
        if until < self.today():
            raise InvalidInputError(
                [FieldProblem("until", until, f"{until.isoformat()} is in the past")],
                subject=f"task {task_id}",
            )
        with self._store() as store:
            store.change_task(task_id, TaskStatus.SNOOZED, now=self.now(), snooze_until=until)
            return store.get_task(task_id)

    def cancel_task(self, task_id: int, *, reason: str | None = None) -> TaskOut:
        """Withdraw a task that should not happen; it stays as history."""
        with self._store() as store:
            store.change_task(task_id, TaskStatus.CANCELLED, now=self.now(), reason=reason)
            return store.get_task(task_id)

    # ------------------------------------------------------------------ files and lists

    def import_file(
        self,
        kind: ImportKind | str,
        path: str | Path,
        *,
        skip_invalid: bool = False,
        rejects: str | Path | None = None,
        on_problem: Callable[[RowProblem], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        """Import customers, purchases or interactions from a CSV or JSONL file.

        Any bad row rejects the whole file (:class:`ImportRejected`, nothing written —
        inside a host's session, the host must roll back) unless ``skip_invalid``: then
        the good rows are written and the bad ones go to ``rejects`` with a reason.
        """
        with self._store() as store:
            result = import_file(
                store.session,
                kind,
                Path(path),
                settings=self.settings,
                now=self.now(),
                skip_invalid=skip_invalid,
                rejects=Path(rejects) if rejects is not None else None,
                on_problem=on_problem,
                on_progress=on_progress,
            )
            if result.rejected and not skip_invalid:
                raise ImportRejected(result)
            # New facts can make planned tasks moot (refunds, newer contacts) and new
            # consent answers can forbid them. A file that changed nothing changes none.
            if result.created or result.updated:
                self.planner.reconcile(store.session, self.now())
            return result

    def outreach(
        self,
        as_of: dt.date | None = None,
        *,
        kinds: Iterable[TaskKind | str] = (),
        owner: str | None = None,
        rules: Iterable[str] = (),
        statuses: Iterable[TaskStatus | str] = OPEN_TASK_STATUSES,
    ) -> list[OutreachRow]:
        """The outreach list: tasks due on or before ``as_of`` (default today), late ones
        included, by owner and due day.

        Each task's words are rendered now for ``as_of`` (a done task shows the words it
        was done with); nothing is written. A template that fails raises
        :class:`TemplateError` naming the template and the task.
        """
        with self._store() as store:
            return list(self._outreach_rows(store, as_of, kinds, owner, rules, statuses))

    def write_outreach(
        self,
        out: TextIO,
        format: str = "csv",
        as_of: dt.date | None = None,
        *,
        kinds: Iterable[TaskKind | str] = (),
        owner: str | None = None,
        rules: Iterable[str] = (),
        statuses: Iterable[TaskStatus | str] = OPEN_TASK_STATUSES,
    ) -> int:
        """Stream the outreach list to ``out`` as ``csv``, ``json``, ``html`` or ``ics``;
        returns the number of tasks written. Rendered as :meth:`outreach`; the database
        is only read."""
        day = as_of if as_of is not None else self.today()
        with self._store() as store:
            rows = self._outreach_rows(store, day, kinds, owner, rules, statuses)
            if format == "csv":
                return write_csv(rows, out)
            if format == "json":
                return write_json(rows, out)
            if format == "html":
                return write_call_sheet(
                    rows,
                    out,
                    settings=self.settings,
                    as_of=day,
                    generated_at=self.now(),
                    labels=rule_labels(self.planner.catalog),
                )
            if format == "ics":
                listed = [row for row in rows if row.kind is TaskKind.CALL]
                out.write(ics_bytes(listed, self.settings, self.now(), as_of=day).decode())
                return len(listed)
        raise InvalidInputError(
            [FieldProblem("format", format, "use csv, json, html or ics")], subject="outreach"
        )

    def _outreach_rows(
        self,
        store: Store,
        as_of: dt.date | None,
        kinds: Iterable[TaskKind | str],
        owner: str | None,
        rules: Iterable[str],
        statuses: Iterable[TaskStatus | str],
    ) -> Iterator[OutreachRow]:
        return outreach_rows(
            store.session,
            settings=self.settings,
            renderer=self.renderer,
            due_by=as_of if as_of is not None else self.today(),
            kinds=[TaskKind(k) for k in kinds],
            owner=owner,
            rules=list(rules),
            statuses=[TaskStatus(s) for s in statuses],
        )

    def report(self, start: dt.date, end: dt.date) -> OutreachReport:
        """Service metrics for ``start`` to ``end``: tasks per rule (planned, done, on
        time, late, missed), top-segment coverage, complaints, promises, surveys; with
        ``[[staff]]``, each person's load against capacity and the backlog waiting."""
        segment = CheckInCall.configured(self.settings).settings
        with self._store() as store:
            return outreach_report(
                store.session,
                start,
                end,
                top_share=segment.top_share,
                tag=segment.tag,
                roster=self.planner.roster,
            )

    def staff_load(self, start: dt.date | None = None, days: int = 7) -> StaffLoad:
        """Each staff member's tasks due per day and kind against their capacity, from
        ``start`` (default today) for ``days`` days, and the backlog waiting per rule.
        Reads only."""
        if days < 1:
            raise ConfigError(f"days: {days} must be at least 1")
        first = self.today() if start is None else start
        languages = {member.name: list(member.languages) for member in self.settings.staff}
        with self._store() as store:
            return staff_load(store.session, self.planner.roster, languages, first, days)

    # ------------------------------------------------------------------ personal data

    def export_customer(self, external_id: str) -> dict[str, Any]:
        """Every row about the customer as one JSON-ready document (GDPR art. 15, 20)."""
        with self._store() as store:
            return export_customer(store.session, external_id)

    def erase_customer(self, external_id: str) -> bool:
        """Erase the customer's personal data, keeping anonymous aggregates (GDPR art. 17).

        Returns False when the customer was already erased (erasing again is harmless).
        """
        with self._store() as store:
            return erase_customer(store.session, external_id, self.now())

    # ------------------------------------------------------------------ helpers

    def _reconcile(self, store: Store, external_ids: Iterable[str]) -> None:
        """Let the rules cancel tasks these customers' new facts made moot."""
        ids = store.customer_ids(external_ids)
        self.planner.reconcile(store.session, self.now(), set(ids.values()))

    def _words_if_open(self, store: Store, task_id: int) -> TaskWords | None:
        """The words of an open task as it is about to be done (to keep as history), or
        None when the task is closed already (changing it will fail)."""
        if store.get_task(task_id).status not in OPEN_TASK_STATUSES:
            return None
        [rendered] = render_tasks(
            store.session, self.renderer, self.settings, [task_id], today=self.today()
        )
        return words_of(rendered)

    def _timestamp(self, value: dt.datetime | None, field: str) -> dt.datetime:
        if value is None:
            return self.now()
        return validate(_Timestamp, {"value": value}, subject=field).value


class _Currency(pydantic.BaseModel):
    currency: CurrencyCode


class _Timestamp(pydantic.BaseModel):
    value: Timestamp


def _database_error(error: exc.SQLAlchemyError) -> RapportError:
    text = str(getattr(error, "orig", None) or error)
    missing_table = isinstance(error, exc.OperationalError | exc.ProgrammingError) and (
        "no such table" in text or "does not exist" in text
    )
    if missing_table and "rapport_" in text:
        return SchemaError(
            "the database has no rapport tables (or older ones); "
            "run `rapport init` or Rapport.migrate() first"
        )
    if isinstance(error, exc.OperationalError) and "database is locked" in text:
        return DatabaseError(
            "the SQLite database is busy (another rapport run is writing); retry when it ends"
        )
    first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return DatabaseError(f"the database refused the operation: {first_line}")
