"""The shop's own Django models. rapport's tables are not among them: its own migrations
create them (see apps.py)."""

from __future__ import annotations

from django.db import models


class Order(models.Model):
    customer = models.CharField(max_length=64)
    total = models.DecimalField(max_digits=12, decimal_places=2)
