"""Job kinds and their handlers. Domains register thin handlers (load by id, call service)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Update
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.jobs import queue
from frontline.jobs.types import ClaimedJob, FollowUp, RequeueHook
from frontline.kit.db import Database, after_commit, before_commit


class HeldJobRunner(Protocol):
    """What a worker offers its handlers for :meth:`JobContext.enqueue_held`."""

    @property
    def lease_seconds(self) -> int: ...

    def can_run(self, kind: str) -> bool: ...

    def hold(self, job_ids: Iterable[int]) -> None:
        """Committed follow-ups it will run: it renews their leases until their turn."""
        ...


@dataclass
class JobContext:
    """What a handler gets: the job's identity and payload, and the database.

    Handlers open their own transactions with ``ctx.db.transaction()`` (they must not hold
    one across network calls). A handler that writes the effect of the job in a transaction
    should call :meth:`complete_in` inside that same transaction, which makes the effect and
    the job's completion atomic: a worker killed before the commit leaves neither.

    A handler whose effect needs a follow-up job at once (a reply to deliver) can enqueue it
    with :meth:`enqueue_held`: the new job is leased to this worker in the same transaction,
    and the worker runs it right after this handler, with no claim round trip and no wake-up.
    """

    job_id: int
    kind: str
    tenant_id: uuid.UUID | None
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    worker_id: str
    db: Database
    services: Any = None
    runner: HeldJobRunner | None = field(default=None, repr=False)
    _completed: bool = field(default=False, repr=False)
    _held: list[ClaimedJob] = field(default_factory=list, repr=False)

    @property
    def idempotency_key(self) -> str:
        return f"job-{self.job_id}"

    async def complete_in(self, session: AsyncSession) -> None:
        """Mark the job done in ``session``'s transaction (with the follow-ups enqueued held
        in it, in one statement on PostgreSQL); :class:`LeaseLost` when another worker took
        the job meanwhile (the transaction must then roll back)."""
        follow_ups: list[FollowUp] = session.info.pop(self._held_key, [])
        lease = self.runner.lease_seconds if self.runner is not None else 0
        held = await queue.complete_and_hold(
            session, self.job_id, self.worker_id, follow_ups, lease_seconds=lease
        )
        if held is None:
            raise LeaseLost(f"job {self.job_id} is no longer held by {self.worker_id}")
        self._completed = True
        self._hold_after_commit(session, held)

    async def complete_with(
        self, session: AsyncSession, effect: Update, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """:meth:`complete_in` together with ``effect`` (an UPDATE ... RETURNING, see
        :func:`frontline.jobs.queue.complete_with`): one statement on PostgreSQL, so that
        ``session`` may be a :meth:`~frontline.kit.db.Database.statement` session. Returns
        the effect's rows; :class:`LeaseLost` as :meth:`complete_in` (nothing written)."""
        if session.info.get(self._held_key):  # follow-ups to write with the completion
            await self.complete_in(session)
            return [dict(r._mapping) for r in await session.execute(effect, params)]
        rows = await queue.complete_with(session, self.job_id, self.worker_id, effect, params)
        if rows is None:
            raise LeaseLost(f"job {self.job_id} is no longer held by {self.worker_id}")
        self._completed = True
        return rows

    @property
    def completed(self) -> bool:
        return self._completed

    async def enqueue_held(
        self,
        session: AsyncSession,
        kind: str,
        payload: dict[str, Any],
        *,
        tenant_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
        max_attempts: int = 8,
    ) -> None:
        """Enqueue a follow-up job in ``session``'s transaction, already leased to this
        worker (``running``, first attempt), to be run by this worker as soon as the current
        handler returns - if and only if the transaction commits.

        The row is written with the job's completion when the handler calls
        :meth:`complete_in` in this transaction (one statement on PostgreSQL), else just
        before the commit. Delivery stays at-least-once: a worker that dies before the
        follow-up is done stops renewing its lease, and after the lease any worker claims
        it like any other job (its second attempt, same payload and idempotency key).
        Without a runner that can run ``kind`` (a handler run outside a worker) this is a
        plain enqueue.
        """
        runner = self.runner
        if runner is None or not runner.can_run(kind):
            await queue.insert(
                session,
                kind,
                payload,
                tenant_id=tenant_id,
                idempotency_key=idempotency_key,
                max_attempts=max_attempts,
            )
            return
        pending: list[FollowUp] | None = session.info.get(self._held_key)
        if pending is None:
            pending = session.info[self._held_key] = []
            before_commit(session, lambda: self._write_held(session))
        pending.append(FollowUp(kind, payload, tenant_id, idempotency_key, max_attempts))

    @property
    def _held_key(self) -> str:
        return f"frontline.jobs.held.{self.job_id}"

    async def _write_held(self, session: AsyncSession) -> None:
        """Held follow-ups the handler did not complete the job with: written on their own."""
        follow_ups: list[FollowUp] = session.info.pop(self._held_key, [])
        if not follow_ups:
            return
        assert self.runner is not None
        held = [
            await queue.insert_held(
                session,
                f.kind,
                f.payload,
                worker_id=self.worker_id,
                lease_seconds=self.runner.lease_seconds,
                tenant_id=f.tenant_id,
                idempotency_key=f.idempotency_key,
                max_attempts=f.max_attempts,
            )
            for f in follow_ups
        ]
        self._hold_after_commit(session, held)

    def _hold_after_commit(self, session: AsyncSession, held: list[ClaimedJob]) -> None:
        if not held:
            return

        async def _hold() -> None:
            self._held.extend(held)
            if self.runner is not None:
                self.runner.hold(h.id for h in held)

        after_commit(session, _hold)

    def take_held(self) -> list[ClaimedJob]:
        """The committed follow-ups of :meth:`enqueue_held` not yet taken (the worker's)."""
        held, self._held = self._held, []
        return held


class LeaseLost(Exception):
    """The job's lease expired and another worker took it: abandon without side effects."""


Handler = Callable[[JobContext], Awaitable[None]]
DeadHook = Callable[[AsyncSession, JobContext, str], Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    on_dead: DeadHook | None = None
    on_requeue: RequeueHook | None = None
    # run once a day at this UTC hour (workers keep one run scheduled; see Worker)
    daily_at_utc_hour: int | None = None


class JobRegistry:
    def __init__(self) -> None:
        self._kinds: dict[str, JobKind] = {}

    def register(self, kind: JobKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} registered twice")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> JobKind | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)
