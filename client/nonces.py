"""The next nonce to sign with, tracked locally so that txs can be sent back to back without a round
trip each; the server's pending nonce is the truth whenever the two may disagree."""

from __future__ import annotations


class NonceTracker:
    """Hands out consecutive nonces from the server's pending nonce. `forget` drops the local view
    (after a refusal: the nonce taken was not used), so the next `take` asks the server again."""

    def __init__(self) -> None:
        self._next: int | None = None

    @property
    def known(self) -> bool:
        return self._next is not None

    def sync(self, pending_nonce: int) -> None:
        """Adopt the server's pending nonce unless a local view exists (concurrent sends share one)."""
        if self._next is None:
            self._next = pending_nonce

    def reset(self, pending_nonce: int) -> None:
        """Adopt the server's pending nonce (after a nonce error)."""
        self._next = pending_nonce

    def take(self) -> int:
        """The next nonce, which then advances; `sync` or `reset` first."""
        if self._next is None:
            raise RuntimeError("no nonce known: sync with the server's pending nonce first")
        nonce = self._next
        self._next += 1
        return nonce

    def forget(self) -> None:
        self._next = None
