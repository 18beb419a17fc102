"""Demand-response settlement protocol of seed 001 §4.4.3 (Eqs 4.21-4.25).

Before an EV's payment to its service provider (SP) may enter the mempool:

1. **Request** (Eq. 4.21) ``EV -> SP: ID || WID || credit``, signed by the EV; here it
   also names the SP and the payment transaction it is about.
2. The SP checks the EV's certificate (``chain.authority``) and that the credit the
   chain shows for the EV (its balance after every admitted transaction) covers
   the payment.
3. **Token** (Eq. 4.23) ``T = credit || t || pre_record || Timestamp`` with the
   verification flag ``t`` and ``pre_record`` = hash of the EV's previous
   transaction (64 zeros before its first); the chain's state supplies credit and
   pre_record, the SP signs ``T`` (``SignToken``) and returns it to the EV.
4. **DR message** (Eq. 4.24) the EV returns ``T || SignToken || Timestamp`` signed
   with its own key (``SignDR``).
5. **Broadcast** (Eq. 4.25) the SP sends ``DR || SignToken || SignDR`` to the
   validators with its own signature.
6. The validators check every signature, that ``T`` matches the ledger (credit,
   pre_record, the payment's parties and amount), that ``T`` is fresh (issued at
   most ``token_ttl_ms`` before) and never used before; only then does the payment
   enter the mempool. A forged, stale or replayed token is rejected with a typed
   error and counted.

The paper leaves the encodings open; ours are canonical JSON (``chain.encoding``).
The accepted messages are exported as ``dr_messages.parquet`` and re-checked by
``gridledger-verify`` (``docs/ledger-format.md``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from chain.encoding import canonical_bytes_unchecked, sha256_hex
from chain.errors import LedgerError, short_hex
from chain.export import _atomic_write
from chain.keys import SIGNATURE_BYTES, Identity, verify_signature_hex
from chain.transaction import SignedTransaction

DR_MESSAGES_FILE = "dr_messages.parquet"
NO_RECORD = "0" * 64
#: Transaction kinds settled through the protocol by default (peer-to-peer payments).
DEFAULT_DR_KINDS = ("p2p_payment",)
TOKEN_FIELDS = (
    "chain_id", "ev", "sp", "payment", "amount", "credit", "verified", "pre_record",
    "timestamp_ms",
)  # fmt: skip


class DrRejected(LedgerError):
    """A demand-response message failed the validators' checks."""


class ForgedToken(DrRejected):
    """A request, token, DR or broadcast signature does not verify."""


class ReplayedToken(DrRejected):
    """The token was already used for a payment."""


class StaleToken(DrRejected):
    """The token was issued more than ``token_ttl_ms`` before it is presented (or later)."""


class TokenMismatch(DrRejected):
    """The token disagrees with the ledger or the payment (credit, pre_record, parties)."""


class UnregisteredParty(DrRejected):
    """The EV or the SP holds no certificate."""


class InsufficientCredit(DrRejected):
    """The SP's funds check failed: the EV's credit does not cover the payment."""


def _signed_bytes(kind: str, body: dict[str, Any]) -> bytes:
    return canonical_bytes_unchecked({"dr": kind, **body})


@dataclass(frozen=True)
class DrMessage:
    """One payment's protocol messages (what the SP broadcasts, plus the request).

    Attributes:
        token: The token ``T`` (fields :data:`TOKEN_FIELDS`).
        ev_id: The EV's node ID; ``wallet``: its wallet label.
        request_signature: EV's signature of the request (Eq. 4.21).
        token_signature: SP's ``SignToken`` (Eq. 4.23).
        dr_signature: EV's ``SignDR`` over ``T || SignToken`` (Eq. 4.24).
        broadcast_signature: SP's signature of the broadcast (Eq. 4.25).
    """

    token: dict[str, Any]
    ev_id: str
    wallet: str
    request_signature: str
    token_signature: str
    dr_signature: str
    broadcast_signature: str

    @property
    def token_id(self) -> str:
        """SHA-256 of the token's canonical bytes."""
        return sha256_hex(token_bytes(self.token))

    def to_row(self) -> dict[str, Any]:
        """One row of ``dr_messages.parquet``."""
        return {
            **self.token,
            "ev_id": self.ev_id,
            "wallet": self.wallet,
            "token_id": self.token_id,
            "request_signature": self.request_signature,
            "token_signature": self.token_signature,
            "dr_signature": self.dr_signature,
            "broadcast_signature": self.broadcast_signature,
        }


def request_bytes(ev_id: str, wallet: str, token: dict[str, Any]) -> bytes:
    """Signed bytes of the request ``ID || WID || credit`` (+ SP and payment)."""
    return _signed_bytes(
        "request",
        {
            "ev_id": ev_id,
            "wallet": wallet,
            "credit": token["credit"],
            "sp": token["sp"],
            "payment": token["payment"],
        },
    )


def token_bytes(token: dict[str, Any]) -> bytes:
    """Signed bytes of the token ``T``."""
    return _signed_bytes("token", {name: token[name] for name in TOKEN_FIELDS})


def dr_bytes(token: dict[str, Any], token_signature: str) -> bytes:
    """Signed bytes of the DR message ``T || SignToken || Timestamp``."""
    return _signed_bytes("message", {"token": token_bytes(token).decode(), "sign": token_signature})


def broadcast_bytes(token: dict[str, Any], token_signature: str, dr_signature: str) -> bytes:
    """Signed bytes of the broadcast ``DR || SignToken || SignDR``."""
    return _signed_bytes(
        "broadcast",
        {"dr": dr_bytes(token, token_signature).decode(), "sign_dr": dr_signature},
    )


@dataclass
class DrProtocol:
    """The protocol's state on one chain: used tokens, last records and counters.

    Args:
        chain_id: The chain.
        registry: The chain's certificate registry (:mod:`chain.authority`).
        token_ttl_ms: How long a token stays valid, in ms (> 0).
        n_validators: Receivers of each broadcast.
        kinds: Transaction kinds that need the protocol.
    """

    chain_id: str
    registry: Any
    token_ttl_ms: int = 60_000
    n_validators: int = 1
    kinds: tuple[str, ...] = DEFAULT_DR_KINDS
    used_tokens: set[str] = field(default_factory=set)
    last_record: dict[str, str] = field(default_factory=dict)
    messages: list[DrMessage] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.token_ttl_ms, bool) or not isinstance(self.token_ttl_ms, int):
            raise ValueError(f"token_ttl_ms must be an int > 0 (got {self.token_ttl_ms!r})")
        if self.token_ttl_ms <= 0:
            raise ValueError(f"token_ttl_ms must be an int > 0 (got {self.token_ttl_ms!r})")
        self.kinds = tuple(self.kinds)

    def genesis_params(self) -> dict[str, int | str]:
        """Params recording the protocol in the genesis (the verifier reads them)."""
        return {"dr_kinds": ",".join(self.kinds), "dr_token_ttl_ms": self.token_ttl_ms}

    def _count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    # ------------------------------------------------------------------ honest flow
    def issue(
        self,
        ev: Identity,
        sp: Identity,
        payment: SignedTransaction,
        *,
        credit: int,
        pre_record: str,
        now_ms: int,
    ) -> DrMessage:
        """Run steps 1-5 for ``payment`` (EV -> SP) and return the broadcast.

        Raises:
            UnregisteredParty: The EV or SP has no certificate (the SP's identity check).
            InsufficientCredit: ``credit`` is below the payment (the SP's funds check).
        """
        cert = self.registry.by_key.get(ev.public_hex)
        if cert is None or sp.public_hex not in self.registry:
            raise UnregisteredParty(f"EV {short_hex(ev.public_hex)} or its SP is not registered")
        if credit < payment.tx.amount:
            raise InsufficientCredit(
                f"EV {short_hex(ev.public_hex)} credit {credit} < payment {payment.tx.amount}"
            )
        token = {
            "chain_id": self.chain_id,
            "ev": ev.public_hex,
            "sp": sp.public_hex,
            "payment": payment.tx_hash,
            "amount": payment.tx.amount,
            "credit": int(credit),
            "verified": 1,
            "pre_record": pre_record,
            "timestamp_ms": int(now_ms),
        }
        request_signature = ev.sign(request_bytes(cert.node_id, cert.wallet, token)).hex()
        token_signature = sp.sign(token_bytes(token)).hex()
        dr_signature = ev.sign(dr_bytes(token, token_signature)).hex()
        broadcast = sp.sign(broadcast_bytes(token, token_signature, dr_signature)).hex()
        return DrMessage(
            token, cert.node_id, cert.wallet, request_signature, token_signature, dr_signature,
            broadcast,
        )  # fmt: skip

    # ------------------------------------------------------------------ validators
    def validate(
        self,
        message: DrMessage,
        payment: SignedTransaction,
        *,
        credit: int,
        pre_record: str,
        now_ms: int,
    ) -> None:
        """Step 6: the validators' checks; on success the token is marked used.

        Args:
            message: The broadcast.
            payment: The payment it authorises.
            credit: The EV's credit in the chain's view now.
            pre_record: The EV's last transaction hash in the chain's view now.
            now_ms: The time the broadcast is checked.

        Raises:
            UnregisteredParty, ForgedToken, ReplayedToken, StaleToken, TokenMismatch,
            InsufficientCredit: The first check that fails.
        """
        token = message.token
        ev, sp = token["ev"], token["sp"]
        cert = self.registry.by_key.get(ev)
        if cert is None or sp not in self.registry:
            raise UnregisteredParty(f"EV {short_hex(ev)} or SP {short_hex(sp)} is not registered")
        signatures = (
            (ev, message.request_signature, request_bytes(cert.node_id, cert.wallet, token)),
            (sp, message.token_signature, token_bytes(token)),
            (ev, message.dr_signature, dr_bytes(token, message.token_signature)),
            (sp, message.broadcast_signature,
             broadcast_bytes(token, message.token_signature, message.dr_signature)),
        )  # fmt: skip
        for signer, signature, data in signatures:
            if not verify_signature_hex(signer, signature, data):
                raise ForgedToken(f"DR message for {short_hex(token['payment'])}: bad signature")
        if message.token_id in self.used_tokens:
            raise ReplayedToken(f"token {short_hex(message.token_id)} was already used")
        age = now_ms - token["timestamp_ms"]
        if not 0 <= age <= self.token_ttl_ms:
            raise StaleToken(
                f"token {short_hex(message.token_id)} is {age} ms old (ttl {self.token_ttl_ms})"
            )
        tx = payment.tx
        if (
            token["chain_id"] != self.chain_id
            or token["payment"] != payment.tx_hash
            or (tx.sender, tx.receiver, tx.amount) != (ev, sp, token["amount"])
            or token["pre_record"] != pre_record
            or token["credit"] != credit
            or token["verified"] != 1
        ):
            raise TokenMismatch(
                f"token {short_hex(message.token_id)} does not match the ledger or the payment"
            )
        if credit < tx.amount:
            raise InsufficientCredit(f"credit {credit} < payment {tx.amount}")
        self.used_tokens.add(message.token_id)

    def record_messages(self, message: DrMessage) -> None:
        """Count the four messages of one payment (the broadcast goes to every validator)."""
        token_size = len(token_bytes(message.token)) + SIGNATURE_BYTES
        sizes = {
            "request": len(request_bytes(message.ev_id, message.wallet, message.token))
            + SIGNATURE_BYTES,
            "response": token_size,
            "dr": token_size + SIGNATURE_BYTES,
            "broadcast": (token_size + 2 * SIGNATURE_BYTES) * self.n_validators,
        }
        self._count("messages", 3 + self.n_validators)
        self._count("bytes", sum(sizes.values()))

    # ------------------------------------------------------------------ driver helper
    def gate(
        self,
        stxs: Sequence[SignedTransaction],
        *,
        identity_of: Callable[[str], Identity],
        balance_of: Callable[[str], int],
        now_ms: int,
    ) -> tuple[list[SignedTransaction], list[tuple[SignedTransaction, DrRejected]]]:
        """Run the protocol for each payment of a DR kind in ``stxs`` (in order).

        Transactions of other kinds pass untouched. ``balance_of`` gives the chain's
        view (committed plus pending) before the batch; the batch's earlier
        transactions are applied on top of it, as the mempool will.

        Returns:
            The transactions to submit (in order) and the rejected payments with
            their errors (counted under ``rejected_<error>``).
        """
        passed: list[SignedTransaction] = []
        rejected: list[tuple[SignedTransaction, DrRejected]] = []
        delta: dict[str, int] = {}
        records: dict[str, str] = {}
        for stx in stxs:
            tx = stx.tx
            if tx.kind in self.kinds:
                credit = balance_of(tx.sender) + delta.get(tx.sender, 0)
                pre_record = records.get(tx.sender, self.last_record.get(tx.sender, NO_RECORD))
                try:
                    message = self.issue(
                        identity_of(tx.sender), identity_of(tx.receiver), stx,
                        credit=credit, pre_record=pre_record, now_ms=now_ms,
                    )  # fmt: skip
                    self.validate(message, stx, credit=credit, pre_record=pre_record, now_ms=now_ms)
                except DrRejected as err:
                    self._count(f"rejected_{type(err).__name__}")
                    rejected.append((stx, err))
                    continue
                self.record_messages(message)
                self.messages.append(message)
                self._count("accepted")
            passed.append(stx)
            records[tx.sender] = stx.tx_hash
            delta[tx.sender] = delta.get(tx.sender, 0) - tx.amount
            delta[tx.receiver] = delta.get(tx.receiver, 0) + tx.amount
        return passed, rejected

    def note_admitted(self, stxs: Iterable[SignedTransaction]) -> None:
        """Record the transactions the mempool admitted (their senders' last records)."""
        for stx in stxs:
            self.last_record[stx.tx.sender] = stx.tx_hash

    def committed_messages(self, blocks: Iterable[Any]) -> list[DrMessage]:
        """The accepted messages whose payment is in ``blocks`` (what an export holds)."""
        committed = {stx.tx_hash for block in blocks for stx in block.transactions}
        return [m for m in self.messages if m.token["payment"] in committed]

    def metrics(self) -> dict[str, int]:
        """Messages, bytes, accepted payments and rejections by error."""
        return {
            "dr_messages": self.counts.get("messages", 0),
            "dr_bytes": self.counts.get("bytes", 0),
            "dr_payments": self.counts.get("accepted", 0),
            **{
                f"dr_{key}": value
                for key, value in sorted(self.counts.items())
                if key.startswith("rejected_")
            },
        }


DR_SCHEMA = pa.schema(
    [
        ("chain_id", pa.string()),
        ("ev", pa.string()),
        ("sp", pa.string()),
        ("payment", pa.string()),
        ("amount", pa.int64()),
        ("credit", pa.int64()),
        ("verified", pa.int64()),
        ("pre_record", pa.string()),
        ("timestamp_ms", pa.int64()),
        ("ev_id", pa.string()),
        ("wallet", pa.string()),
        ("token_id", pa.string()),
        ("request_signature", pa.string()),
        ("token_signature", pa.string()),
        ("dr_signature", pa.string()),
        ("broadcast_signature", pa.string()),
    ]
)


def write_dr_messages(run_dir: str | os.PathLike[str], messages: Iterable[DrMessage]) -> None:
    """Write ``dr_messages.parquet`` atomically (the accepted messages, in order)."""
    rows = [message.to_row() for message in messages]
    columns = {name: [row[name] for row in rows] for name in DR_SCHEMA.names}
    table = pa.Table.from_pydict(columns, schema=DR_SCHEMA)
    _atomic_write(Path(run_dir) / DR_MESSAGES_FILE, lambda f: pq.write_table(table, f))
