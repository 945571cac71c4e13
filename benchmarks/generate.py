"""Generate a reproducible customer base as the CSV files ``rapport import`` reads.

    python benchmarks/generate.py --customers 100000 --out /tmp/bench

N customers (birthdays spread over the year, 29 February included, six languages, 10%
with interests, owners ``staff0`` to ``staff19``), about 5 purchases each over three years
with a heavy-tailed amount distribution, and interactions for a third of them. The same
seed gives the same files; ``generated`` keeps them in a folder and reuses them.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

LANGUAGES = (
    ("en", "Europe/London", "GB"),
    ("fi", "Europe/Helsinki", "FI"),
    ("es", "Europe/Madrid", "ES"),
    ("pl", "Europe/Warsaw", "PL"),
    ("it", "Europe/Rome", "IT"),
    ("sv", "Europe/Stockholm", "SE"),
)
FIRST = ("Aino", "Oscar", "Lucía", "Zofia", "Giulia", "Elsa", "Jack", "Eino", "Mateo", "Jan")
LAST = ("Virtanen", "Andersson", "García", "Nowak", "Rossi", "Smith", "Laine", "Ricci")
INTERESTS = ("sailing", "golf", "jazz", "cooking", "gardening", "photography", "wine")
ITEMS = ("Coffee beans", "Rain jacket", "Leather boots", "Espresso machine", "Gift card")
#: Customer n's owner is ``staff{n % OWNERS}``.
OWNERS = 20
CUSTOMER_COLUMNS = (
    "external_id", "first_name", "last_name", "email", "phone", "address_line1",
    "postal_code", "city", "country", "language", "timezone", "birthday", "customer_since",
    "tags", "interests", "owner", "consent_email", "consent_mail", "consent_phone",
)  # fmt: skip


def generate(customers: int, out: Path, *, seed: int = 42, as_of: dt.date) -> dict[str, Path]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.csv" for name in ("customers", "purchases", "interactions")}
    start = as_of - dt.timedelta(days=3 * 365)
    with (
        paths["customers"].open("w", newline="", encoding="utf-8") as c_file,
        paths["purchases"].open("w", newline="", encoding="utf-8") as p_file,
        paths["interactions"].open("w", newline="", encoding="utf-8") as i_file,
    ):
        customers_csv, purchases_csv, interactions_csv = (
            csv.writer(c_file),
            csv.writer(p_file),
            csv.writer(i_file),
        )
        customers_csv.writerow(CUSTOMER_COLUMNS)
        purchases_csv.writerow(
            ("purchase_id", "customer_id", "occurred_at", "amount", "currency", "description")
        )
        interactions_csv.writerow(
            ("customer_id", "occurred_at", "kind", "direction", "summary", "staff")
        )
        purchase_id = 0
        for n in range(customers):
            language, zone, country = LANGUAGES[n % len(LANGUAGES)]
            external_id = f"B{n:08d}"
            day_of_year = rng.randint(0, 365)
            birthday = (
                "--02-29"
                if day_of_year == 365
                else (dt.date(2001, 1, 1) + dt.timedelta(days=day_of_year)).strftime("--%m-%d")
            )
            if rng.random() < 0.5 and birthday != "--02-29":
                birthday = f"{rng.randint(1945, 2005)}{birthday[1:]}"
            customers_csv.writerow(
                (
                    external_id,
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    f"c{n}@example.com",
                    f"+358 40 {n:07d}",
                    f"Street {n % 200 + 1}",
                    f"{n % 99999:05d}",
                    "Town",
                    country,
                    language,
                    zone,
                    birthday,
                    (start - dt.timedelta(days=rng.randint(0, 2000))).isoformat(),
                    "vip" if rng.random() < 0.02 else "",
                    ";".join(rng.sample(INTERESTS, 2)) if rng.random() < 0.1 else "",
                    f"staff{n % OWNERS}",
                    rng.choice(("granted", "unknown", "refused")),
                    rng.choice(("granted", "unknown")),
                    "unknown",
                )
            )
            for _ in range(max(0, int(rng.gauss(5, 2)))):
                purchase_id += 1
                moment = dt.datetime.combine(
                    start + dt.timedelta(days=rng.randint(0, 3 * 365 - 1)),
                    dt.time(rng.randint(8, 20), rng.randint(0, 59)),
                    tzinfo=dt.UTC,
                )
                amount = min(round(rng.lognormvariate(3.5, 1.2), 2), 50_000)
                purchases_csv.writerow(
                    (
                        f"P{purchase_id:09d}",
                        external_id,
                        moment.isoformat(),
                        f"{amount:.2f}",
                        "EUR",
                        rng.choice(ITEMS),
                    )
                )
            if rng.random() < 0.33:
                moment = dt.datetime.combine(
                    as_of - dt.timedelta(days=rng.randint(1, 400)), dt.time(11), tzinfo=dt.UTC
                )
                interactions_csv.writerow(
                    (external_id, moment.isoformat(), "call", "outbound", "Checked in", "staff1")
                )
    return paths


def generated(customers: int, out: Path, *, seed: int = 42, as_of: dt.date) -> dict[str, Path]:
    """The files of ``generate``, reused when ``out`` already holds them for the same
    customers, seed and day (a stamp file says which)."""
    stamp = out / "generated.txt"
    wanted = f"{customers} {seed} {as_of.isoformat()}\n"
    paths = {name: out / f"{name}.csv" for name in ("customers", "purchases", "interactions")}
    if stamp.exists() and stamp.read_text() == wanted and all(p.exists() for p in paths.values()):
        return paths
    stamp.unlink(missing_ok=True)
    paths = generate(customers, out, seed=seed, as_of=as_of)
    stamp.write_text(wanted)
    return paths


def staff(count: int, *, calls: int = 10, cards: int = 20) -> list[dict[str, Any]]:
    """``count`` ``[[staff]]`` entries for the generated customers.

    The first half (rounded up) are named like owners (``staff0``, ``staff1``, ...), so
    those owners' customers are bound to them; the rest (``agent10``, ...) own nobody,
    so the customers of the owners left off the staff are assigned by language. Person
    ``i`` speaks languages ``i`` and ``i + 1`` of the six, so each language has speakers
    once there are three people or more.
    """
    codes = [code for code, _, _ in LANGUAGES]
    owners = min((count + 1) // 2, OWNERS)
    return [
        {
            "name": f"staff{i}" if i < owners else f"agent{i}",
            "languages": [codes[i % len(codes)], codes[(i + 1) % len(codes)]],
            "per_day": {"call": calls, "card": cards},
        }
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23))
    args = parser.parse_args()
    paths = generate(args.customers, args.out, seed=args.seed, as_of=args.as_of)
    for name, path in paths.items():
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
