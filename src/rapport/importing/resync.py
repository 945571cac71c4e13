"""A nightly re-sync that costs little: each customer row's digest is stored with the
customer, and an unchanged row of the next import is skipped before it is validated."""

from __future__ import annotations

import hashlib
from collections import Counter

from rapport.config import Settings
from rapport.importing.files import Row, Source
from rapport.importing.kinds import ImportKind, ImportResult
from rapport.store import Store

#: Bumped when the same row would be stored differently (a new normalisation), so rows
#: imported by an older version are read again.
DIGEST_VERSION = 1


def digest_salt(kind: ImportKind, settings: Settings) -> bytes:
    """What besides the row decides what is stored: the business's time zone (for times
    without an offset) and its currency."""
    business = settings.business
    return f"{DIGEST_VERSION}|{kind.value}|{business.timezone}|{business.currency}|".encode()


def header_salt(source: Source) -> bytes:
    """A CSV file's columns, in order: its rows' texts are their cells alone."""
    return ("\x1e".join(source.header) + "|").encode()


def row_digest(text: str, salt: bytes) -> str:
    """A digest of a row's text as read (see :meth:`Source.rows`)."""
    return hashlib.blake2b(salt + text.encode(), digest_size=16).hexdigest()


def unchanged_rows(
    store: Store,
    rows: list[Row],
    salt: bytes,
    digests: dict[str, str],
    result: ImportResult,
) -> list[Row]:
    """The rows to read: those whose customer's stored digest is not this row's. The
    others are counted ``unchanged`` and touch nothing. ``digests`` gets the digest of
    each row to read whose customer it names once: a customer named twice stores none,
    so their next import reads their rows again."""
    keyed: list[tuple[Row, str | None, str | None]] = []
    for row in rows:
        key = row[1].get("external_id")
        key = key.strip() if isinstance(key, str) else None
        if key and (len(key) > 255 or "\x00" in key):
            key = None  # no such customer can be stored: the row is read (and refused)
        text = row[2]
        keyed.append((row, key, None if text is None or not key else row_digest(text, salt)))
    stored = store.import_digests(key for _, key, _ in keyed if key)
    counts = Counter(key for _, key, _ in keyed)
    kept = []
    for row, key, digest in keyed:
        if key is None or digest is None:
            kept.append(row)
            continue
        # A customer named twice in the batch is read in full: the rows may differ.
        once = counts[key] == 1
        if once and stored.get(key) == digest:
            result.unchanged += 1
            continue
        if once:
            digests[key] = digest
        kept.append(row)
    return kept
