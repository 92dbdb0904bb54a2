"""Login throttling: exponential back-off per account and per client address.

Every wrong password counts against the account (its e-mail, hashed) and the address it came
from. Past a free allowance the key is locked for ``base * 2**(failures - allowance)``
seconds, capped; a locked key is refused with 429 and ``Retry-After`` before any password is
checked, so a guesser gets a handful of tries per quarter hour instead of thousands. A
successful login clears the account's count; an admin can unlock an account at once. The
counters live in Redis when one is configured (shared by every API process), otherwise in
the process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from frontline.errors import TooManyRequests
from frontline.kit.counters import CounterStore
from frontline.kit.crypto import hash_token
from frontline.kit.metrics import signin_failures, signin_throttled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottlePolicy:
    account_allowance: int = 5
    address_allowance: int = 20
    base_seconds: float = 1.0
    max_seconds: float = 900.0
    window_seconds: int = 900


class LoginThrottle:
    def __init__(self, store: CounterStore, policy: ThrottlePolicy | None = None) -> None:
        self.store = store
        self.policy = policy or ThrottlePolicy()

    @staticmethod
    def _account(email: str) -> str:
        return "login:acct:" + hash_token(email.strip().lower())[:32]

    @staticmethod
    def _address(address: str | None) -> str:
        return "login:addr:" + (address or "unknown")

    async def check(self, email: str, address: str | None) -> None:
        """Raise 429 while the account or the address is backing off."""
        wait = max(
            await self.store.locked_for(self._account(email)),
            await self.store.locked_for(self._address(address)),
        )
        if wait > 0:
            signin_throttled.labels("refused").inc()
            raise TooManyRequests(
                "too many failed sign-in attempts; try again later", retry_after=wait
            )

    def _delay(self, failures: int, allowance: int) -> float:
        if failures < allowance:
            return 0.0
        p = self.policy
        return float(min(p.max_seconds, p.base_seconds * 2 ** (failures - allowance)))

    async def failed(self, email: str, address: str | None) -> float:
        """Count a wrong password; returns the back-off now imposed (0 for none)."""
        p = self.policy
        signin_failures.inc()
        imposed = 0.0
        for key, allowance in (
            (self._account(email), p.account_allowance),
            (self._address(address), p.address_allowance),
        ):
            failures = await self.store.incr(key, p.window_seconds)
            delay = self._delay(failures, allowance)
            if delay > 0:
                await self.store.lock(key, delay)
                imposed = max(imposed, delay)
        if imposed:
            signin_throttled.labels("imposed").inc()
            log.warning(
                "login back-off imposed",
                extra={"address": address, "seconds": imposed, "event": "auth.login_throttled"},
            )
        return imposed

    async def succeeded(self, email: str) -> None:
        await self.store.clear(self._account(email))

    async def unlock(self, email: str) -> None:
        await self.store.clear(self._account(email))
