"""Rasa's Redis lock store, with each change of a conversation's lock made atomic (the cluster's lock store).

Rasa 3.6's RedisLockStore changes a lock by GET, change in Python, SET. When two Rasa servers take a turn of the
same conversation at the same moment, both read "no lock", both write a lock holding ticket 0, and both go ahead:
the turns run at once, the second one misses the first, and the tracker gets two user messages in a row
(tests/test_cluster.py sends one conversation's messages to both servers at once and caught exactly that). The
clean-up after a turn has the same race: it can delete a lock that another server has just put its ticket in,
and that server then fails with "Could not acquire lock".

Here each read-change-write of a lock runs in a Redis transaction (WATCH the key, then MULTI/EXEC, retried when
another server changed the key in between), and the clean-up removes the ticket and deletes an empty lock in one
transaction. Waiting for the lock is Rasa's own loop.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")


class CoachRedisLockStore(RedisLockStore):
    """`lock_store: type: bot.cluster.lock_store.CoachRedisLockStore` with the settings of Rasa's `type: redis`
    (url, port, password, db, key_prefix, ...)."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(self, conversation_id: str, change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], T]]) -> T:
        """Apply `change` (the lock or None -> the new lock, or None to delete it; and a result) atomically."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> T:
            raw = pipe.get(key)  # after WATCH the pipeline runs commands at once
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            new, result = change(lock)
            pipe.multi()
            if new is None:
                pipe.delete(key)
            else:
                pipe.set(key, new.dumps())
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as e:  # noqa: BLE001 - Rasa's own type for any failure here
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def finish(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        def finish_and_drop_if_empty(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
                if not lock.is_someone_waiting():
                    lock = None
            return lock, None

        self._change(conversation_id, finish_and_drop_if_empty)
