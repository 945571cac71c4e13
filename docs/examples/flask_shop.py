"""A Flask shop whose orders and rapport's purchases commit together (Flask-SQLAlchemy)."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import rapport
from rapport.database import configure_sqlite


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)

# db.session is a scoped_session: rapport asks it for the current request's session on
# every call, so one Rapport serves the whole app and never commits for you.
crm = rapport.Rapport(db.session, currency="EUR")


class Order(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    customer: Mapped[str]
    total: Mapped[str]


def create_app(database_url: str = "sqlite:///shop.db") -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)  # foreign keys on, as rapport's deletes expect
        db.create_all()  # your tables
        rapport.migrate(db.engine)  # rapport's tables, with their own version table

    @app.post("/customers")
    def add_customer() -> tuple[dict[str, Any], int]:
        customer = crm.upsert_customer(request.get_json())
        db.session.commit()
        return customer.model_dump(mode="json"), 201

    @app.post("/orders")
    def place_order() -> tuple[dict[str, Any], int]:
        data = request.get_json()
        order = Order(customer=data["customer"], total=data["total"])
        db.session.add(order)
        db.session.flush()  # gives the order its id
        crm.record_purchase(
            {
                "customer_id": order.customer,
                "external_id": f"order-{order.id}",  # recording it twice changes nothing
                "occurred_at": crm.now(),
                "amount": order.total,
            }
        )
        db.session.commit()  # one commit: the order and the customer's history
        return {"order": order.id}, 201

    @app.get("/customers/<external_id>")
    def profile(external_id: str) -> dict[str, Any]:
        return crm.get_profile(external_id).model_dump(mode="json")

    # Nothing was committed when these are raised: Flask-SQLAlchemy rolls the session
    # back at the end of the request, the order included.
    @app.errorhandler(rapport.InvalidInputError)
    def invalid(error: rapport.InvalidInputError) -> tuple[dict[str, str], int]:
        return {"error": str(error)}, 422

    @app.errorhandler(rapport.NotFoundError)
    def not_found(error: rapport.NotFoundError) -> tuple[dict[str, str], int]:
        return {"error": str(error)}, 404

    return app
