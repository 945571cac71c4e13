"""A FastAPI app with one session per request: rapport works inside it, and the request's
success commits it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker

import rapport


# One session per request, committed when the endpoint returns and rolled back when it
# raises; scope="function" ends it before the response is sent, so a client is never
# told "created" about a commit that then failed.
def request_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions.begin() as session:
        yield session


def request_crm(
    session: Annotated[Session, Depends(request_session, scope="function")],
) -> rapport.Rapport:
    return rapport.Rapport(session, currency="EUR")  # flushes, never commits


CRM = Annotated[rapport.Rapport, Depends(request_crm)]
router = APIRouter()


@router.post("/customers", status_code=201)
def add_customer(customer: rapport.CustomerIn, crm: CRM) -> rapport.CustomerOut:
    return crm.upsert_customer(customer)


@router.get("/customers/{external_id}")
def profile(external_id: str, crm: CRM) -> rapport.CustomerProfile:
    return crm.get_profile(external_id)


@router.post("/plan")
def plan(as_of: dt.date, crm: CRM) -> dict[str, int]:
    report = crm.plan(as_of)
    return {name: rule.created for name, rule in report.rules.items()}


@router.get("/tasks")
def tasks_due(due_by: dt.date, crm: CRM) -> list[rapport.TaskOut]:
    return crm.find_tasks(status="planned", due_by=due_by)


@router.post("/tasks/{task_id}/done")
def done(task_id: int, outcome: str, crm: CRM) -> rapport.TaskOut:
    return crm.complete_task(task_id, outcome=outcome)


def not_found(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"error": str(error)}, status_code=404)


def invalid(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"error": str(error)}, status_code=422)


def create_app(database_url: str = "sqlite:///shop.db") -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = rapport.create_engine(database_url)  # SQLite: WAL, foreign keys, timeout
        rapport.migrate(engine)
        app.state.sessions = sessionmaker(engine)
        yield
        engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    app.add_exception_handler(rapport.NotFoundError, not_found)
    app.add_exception_handler(rapport.InvalidInputError, invalid)
    return app
