"""Idempotent creates: a retry carrying the same ``Idempotency-Key`` gets the first answer again.

The key is claimed by inserting its row (unique per user and key) in the same transaction that
creates the petition, and the answer is stored in that row before the commit. A concurrent retry's
insert waits on the unique index until the first transaction ends: if it committed, the insert
fails and the retry reads the stored answer; if it rolled back (an error: nothing is written, not
even the key), the retry's insert succeeds and it does the work itself. So under any number of
concurrent retries exactly one petition is created, without a lock held outside the transaction.

Keys are kept ``KEEP`` (24 hours) at least; ``purge_idempotency_keys`` deletes older ones.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdempotencyKey

KEEP = dt.timedelta(hours=24)


class KeyReused(Exception):
    """The key was used before by this user with a different request body (HTTP 422)."""


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: Any
    replayed: bool


def fingerprint(body: Any) -> str:
    """SHA-256 of the canonical JSON of a parsed body: key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(user: Any, key: str, fingerprint: str) -> Outcome | None:
    row = IdempotencyKey.objects.filter(user=user, key=key).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise KeyReused(key)
    return Outcome(status_code=row.status_code or 0, body=row.response, replayed=True)


def run_once(
    *, user: Any, key: str, fingerprint: str, produce: Callable[[], tuple[int, Any]]
) -> Outcome:
    """Run ``produce`` (status code and JSON body) once per user and key; replay its answer after that.

    The claim is the transaction's first statement, before ``produce`` even validates the input, so
    a retry gets the first answer whatever has changed since. ``produce`` runs inside the
    transaction that claims the key; when it raises, everything rolls back (the key too) and the
    exception propagates, so a corrected retry with the same key works. Raises ``KeyReused`` when
    the key is known with another fingerprint.
    """
    claimed = False
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(
                user=user, key=key, fingerprint=fingerprint, created_at=timezone.now()
            )
            claimed = True
            status_code, body = produce()
            row.status_code, row.response = status_code, body
            row.save(update_fields=["status_code", "response"])
    except IntegrityError:
        if claimed:  # not the key: something in ``produce``
            raise
        # The key is taken: by a request long done, or by one that committed while our insert
        # waited for it on the unique index.
        stored = _stored(user, key, fingerprint)
        if stored is None:  # purged in between: a key this old is not a retry of anything live
            raise
        return stored
    return Outcome(status_code=status_code, body=body, replayed=False)


def purge_expired(*, older_than: dt.timedelta = KEEP, now: dt.datetime | None = None) -> int:
    """Delete keys older than ``older_than`` (never less than ``KEEP``); returns how many."""
    cutoff = (now or timezone.now()) - max(older_than, KEEP)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
