"""`manage.py migrate` runs rapport's own migrations after Django's."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

import rapport


def migrate_rapport(**kwargs: Any) -> None:
    from django_shop.crm import engine

    rapport.migrate(engine())  # its own version table: rapport_alembic_version


class ShopConfig(AppConfig):
    name = "django_shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(migrate_rapport, sender=self)
