"""A reproducible demo customer base: people in six languages with families, interests
and two years of purchases and contacts, generated from a seed.

Used by ``rapport demo`` so a newcomer sees rapport work on realistic data in seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rapport.models.enums import InterestCategory

#: The demo business. ``rapport demo`` saves it as ``rapport.toml`` beside the demo
#: database, so the commands it suggests afterwards plan for the same business.
DEMO_SETTINGS = """\
# Written by `rapport demo`: the demo business, so that `rapport --config THIS_FILE ...`
# (or any rapport command in this folder) works on the demo database.
database = {database}

[business]
name = "Harbour Books"
timezone = "Europe/Helsinki"
country = "FI"
signature = "Maria and the Harbour Books team"

[rules.thank_you_note]
min_amount = 300
"""


def write_demo_settings(folder: Path, database: str) -> Path:
    """Save the demo business and ``database`` as ``folder/rapport.toml``; return its path."""
    path = folder / "rapport.toml"
    # json.dumps writes a valid TOML basic string (quotes and backslashes escaped).
    path.write_text(DEMO_SETTINGS.format(database=json.dumps(database)), encoding="utf-8")
    return path


@dataclass(frozen=True)
class _Locale:
    language: str
    country: str
    timezone: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]  # (postal code, city)
    phone_prefix: str


_LOCALES = (
    _Locale(
        "en",
        "GB",
        "Europe/London",
        ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Grace", "Alfie", "Lily"),
        ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker"),
        ("High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue"),
        (("LS1 4AP", "Leeds"), ("BS1 5TR", "Bristol"), ("YO1 7HH", "York"), ("EX1 1HS", "Exeter")),
        "+44 7700 ",
    ),
    _Locale(
        "fi",
        "FI",
        "Europe/Helsinki",
        ("Aino", "Eino", "Helmi", "Väinö", "Aada", "Onni", "Sofia", "Leevi", "Venla", "Eetu"),
        (
            "Virtanen",
            "Korhonen",
            "Mäkinen",
            "Nieminen",
            "Mäkelä",
            "Hämäläinen",
            "Laine",
            "Koskinen",
        ),
        ("Rantakatu", "Kauppakatu", "Koulukatu", "Puistotie", "Järvenrannantie"),
        (("00100", "Helsinki"), ("33100", "Tampere"), ("20100", "Turku"), ("90100", "Oulu")),
        "+358 40 ",
    ),
    _Locale(
        "es",
        "ES",
        "Europe/Madrid",
        ("Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Leo", "Julia", "Daniel", "Paula", "Álvaro"),
        ("García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Ruiz", "Díaz"),
        ("Calle Mayor", "Calle del Sol", "Avenida de la Paz", "Plaza Nueva", "Calle Real"),
        (("28013", "Madrid"), ("41004", "Sevilla"), ("46001", "Valencia"), ("50001", "Zaragoza")),
        "+34 612 ",
    ),
    _Locale(
        "pl",
        "PL",
        "Europe/Warsaw",
        ("Zofia", "Antoni", "Hanna", "Jan", "Maja", "Aleksander", "Lena", "Franciszek", "Julia"),
        ("Nowak", "Wójcik", "Kowalczyk", "Mazur", "Krawczyk", "Zając", "Król", "Wieczorek"),
        ("ul. Długa", "ul. Ogrodowa", "ul. Lipowa", "ul. Polna", "ul. Kwiatowa"),
        (("00-001", "Warszawa"), ("30-001", "Kraków"), ("80-001", "Gdańsk"), ("50-001", "Wrocław")),
        "+48 601 ",
    ),
    _Locale(
        "it",
        "IT",
        "Europe/Rome",
        ("Giulia", "Leonardo", "Sofia", "Francesco", "Aurora", "Alessandro", "Ginevra", "Lorenzo"),
        (
            "Rossi",
            "Russo",
            "Ferrari",
            "Esposito",
            "Bianchi",
            "Romano",
            "Colombo",
            "Ricci",
            "Marino",
        ),
        ("Via Roma", "Via Garibaldi", "Corso Italia", "Via Dante", "Piazza Verdi"),
        (("00184", "Roma"), ("20121", "Milano"), ("50122", "Firenze"), ("40121", "Bologna")),
        "+39 333 ",
    ),
    _Locale(
        "sv",
        "SE",
        "Europe/Stockholm",
        ("Alice", "William", "Maja", "Noah", "Elsa", "Hugo", "Astrid", "Liam", "Saga", "Oscar"),
        ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson"),
        ("Storgatan", "Kyrkogatan", "Drottninggatan", "Skolgatan", "Sjövägen"),
        (
            ("111 52", "Stockholm"),
            ("411 01", "Göteborg"),
            ("211 20", "Malmö"),
            ("753 10", "Uppsala"),
        ),
        "+46 70 ",
    ),
)

_INTERESTS = (
    ("sailing", InterestCategory.SPORT),
    ("golf", InterestCategory.SPORT),
    ("running", InterestCategory.SPORT),
    ("jazz", InterestCategory.MUSIC),
    ("opera", InterestCategory.MUSIC),
    ("cooking", InterestCategory.FOOD),
    ("wine", InterestCategory.FOOD),
    ("gardening", InterestCategory.HOBBY),
    ("photography", InterestCategory.HOBBY),
    ("birdwatching", InterestCategory.HOBBY),
    ("Japan", InterestCategory.TRAVEL),
    ("mountain hiking", InterestCategory.TRAVEL),
)

_PRODUCTS = (
    ("Reading glasses", "accessories", 30, 120),
    ("Rain jacket", "clothing", 80, 260),
    ("Leather boots", "shoes", 120, 380),
    ("Espresso machine", "kitchen", 250, 900),
    ("Road bike service", "service", 60, 180),
    ("Winter coat", "clothing", 180, 650),
    ("Garden furniture set", "home", 400, 1800),
    ("Gift card", "gift", 20, 200),
    ("Coffee beans, 1 kg", "food", 18, 40),
    ("Hiking backpack", "outdoor", 90, 320),
)

_PETS = ("Musti", "Luna", "Rex", "Bella", "Max", "Milo")
STAFF = ("Maria", "Jussi", "Lucía", "Tomasz", "Giulia", "Erik")


def demo_customers(count: int, *, seed: int, as_of: dt.date) -> Iterator[dict[str, Any]]:
    """Customer records (as ``CustomerIn`` data) for ``count`` demo customers."""
    rng = random.Random(seed)
    for n in range(count):
        locale = _LOCALES[n % len(_LOCALES)]
        first = rng.choice(locale.first_names)
        last = rng.choice(locale.last_names)
        postal_code, city = rng.choice(locale.cities)
        born = _birthday(rng, as_of)
        since = as_of - dt.timedelta(days=rng.randint(60, 3650))
        has_address = rng.random() < 0.85
        interests = rng.sample(_INTERESTS, k=rng.choice((0, 1, 1, 2, 3)))
        customer: dict[str, Any] = {
            "external_id": f"DEMO-{n + 1:05d}",
            "first_name": first,
            "last_name": last,
            "email": f"{_ascii(first)}.{_ascii(last)}{n + 1}@example.com".lower(),
            "phone": f"{locale.phone_prefix}{rng.randint(100_000, 999_999)}",
            "address_line1": f"{rng.choice(locale.streets)} {rng.randint(1, 120)}"
            if has_address
            else None,
            "postal_code": postal_code if has_address else None,
            "city": city if has_address else None,
            "country": locale.country,
            "language": locale.language,
            "timezone": locale.timezone,
            "birthday": born,
            "customer_since": since.isoformat(),
            "owner": STAFF[n % len(STAFF)],
            "tags": ["vip"] if rng.random() < 0.05 else [],
            "interests": [{"topic": topic, "category": category} for topic, category in interests],
            "family": _family(rng, locale, as_of),
            "consent_email": rng.choice(("granted", "granted", "unknown", "refused")),
            "consent_mail": rng.choice(("granted", "unknown", "unknown")),
            "consent_phone": rng.choice(("granted", "granted", "unknown")),
            "consent_source": "demo data",
            "do_not_contact": rng.random() < 0.02,
        }
        if rng.random() < 0.03:
            customer["check_in_every_days"] = 45
        yield customer


def demo_purchases(
    customers: list[dict[str, Any]], *, seed: int, as_of: dt.date, currency: str
) -> Iterator[dict[str, Any]]:
    """Up to two years of purchases (never before the customer joined): most customers
    buy a few times, a few buy often and big."""
    rng = random.Random(seed + 1)
    number = 0
    for customer in customers:
        start = max(
            as_of - dt.timedelta(days=730), dt.date.fromisoformat(customer["customer_since"])
        )
        span = (as_of - start).days
        regular = rng.random() < 0.15
        count = rng.randint(8, 30) if regular else rng.choice((0, 1, 1, 2, 3, 4))
        for _ in range(count):
            number += 1
            name, category, low, high = rng.choice(_PRODUCTS)
            day = start + dt.timedelta(days=rng.randint(0, span - 1))
            moment = dt.datetime.combine(day, dt.time(rng.randint(9, 19), rng.randint(0, 59)))
            amount = Decimal(rng.randint(low * 100, high * 100)) / 100
            if rng.random() < 0.03:
                amount *= 4  # the occasional big purchase
            yield {
                "customer_id": customer["external_id"],
                "external_id": f"DEMO-P{number:06d}",
                "occurred_at": moment.replace(tzinfo=dt.UTC),
                "amount": amount,
                "currency": currency,
                "description": name,
                "category": category,
                "status": "refunded" if rng.random() < 0.02 else "completed",
            }


def demo_interactions(
    customer_ids: list[str], *, seed: int, as_of: dt.date
) -> Iterator[dict[str, Any]]:
    """Calls, visits and notes for about a third of the customers."""
    rng = random.Random(seed + 2)
    summaries = (
        "Asked about the new season's catalogue",
        "Called to check the repair went well",
        "Visited the shop, chatted about a family trip",
        "Sent a thank-you card",
        "Complained about a late delivery, sorted out",
    )
    for index, customer_id in enumerate(customer_ids):
        if rng.random() > 0.35:
            continue
        for _ in range(rng.randint(1, 3)):
            day = as_of - dt.timedelta(days=rng.randint(1, 400))
            yield {
                "customer_id": customer_id,
                "occurred_at": dt.datetime.combine(day, dt.time(11, 0), tzinfo=dt.UTC),
                "kind": rng.choice(("call", "visit", "email", "card")),
                "direction": rng.choice(("inbound", "outbound")),
                "summary": rng.choice(summaries),
                "staff": STAFF[index % len(STAFF)],
            }


def _birthday(rng: random.Random, as_of: dt.date) -> str | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.12:
        return "--02-29" if rng.random() < 0.5 else "1988-02-29"
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    if roll < 0.4:
        return f"--{month:02d}-{day:02d}"
    return f"{rng.randint(as_of.year - 85, as_of.year - 18)}-{month:02d}-{day:02d}"


def _family(rng: random.Random, locale: _Locale, as_of: dt.date) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = []
    if rng.random() < 0.4:
        members.append({"name": rng.choice(locale.first_names), "relation": "spouse"})
    for _ in range(rng.choice((0, 0, 1, 2))):
        year = rng.randint(as_of.year - 20, as_of.year - 1)
        birthday = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        members.append(
            {"name": rng.choice(locale.first_names), "relation": "child", "birthday": birthday}
        )
    if rng.random() < 0.15:
        members.append({"name": rng.choice(_PETS), "relation": "pet"})
    # Names must be unique within a family; keep the first of any repeat.
    unique: dict[str, dict[str, Any]] = {}
    for member in members:
        unique.setdefault(member["name"].casefold(), member)
    return list(unique.values())


def _ascii(text: str) -> str:
    import unicodedata

    normalized = unicodedata.normalize("NFKD", text)
    return "".join(c for c in normalized if c.isascii() and c.isalnum())


def demo_cases(
    customer_ids: list[str], *, seed: int, as_of: dt.date
) -> Iterator[tuple[dict[str, Any], dt.datetime | None]]:
    """Complaints for a few customers: (the case, when it was resolved or None if open)."""
    rng = random.Random(seed + 3)
    problems = (
        "Delivery arrived two days late",
        "Zip on the winter coat broke after a week",
        "Charged twice for one order",
        "Espresso machine leaks water",
    )
    for index, customer_id in enumerate(customer_ids):
        if rng.random() > 0.03:
            continue
        opened = dt.datetime.combine(
            as_of - dt.timedelta(days=rng.randint(0, 12)), dt.time(10), tzinfo=dt.UTC
        )
        resolved = opened + dt.timedelta(days=rng.randint(1, 4)) if rng.random() < 0.5 else None
        case = {
            "customer_id": customer_id,
            "summary": rng.choice(problems),
            "opened_at": opened,
            "severity": rng.choice(("normal", "normal", "high")),
            "owner": STAFF[index % len(STAFF)],
        }
        yield case, (resolved if resolved and resolved.date() <= as_of else None)


def demo_promises(
    customer_ids: list[str], *, seed: int, as_of: dt.date
) -> Iterator[dict[str, Any]]:
    """Open promises for a few customers, some due soon and some already late."""
    rng = random.Random(seed + 4)
    things = (
        "Order the coat in the next size",
        "Call back with the repair estimate",
        "Set aside the new catalogue",
    )
    for index, customer_id in enumerate(customer_ids):
        if rng.random() > 0.03:
            continue
        due = as_of + dt.timedelta(days=rng.randint(-3, 5))
        yield {
            "customer_id": customer_id,
            "what": rng.choice(things),
            "due_at": dt.datetime.combine(due, dt.time(15), tzinfo=dt.UTC),
            "staff": STAFF[index % len(STAFF)],
        }
