"""Message-level simulation of one PBFT view for one sequence number (one block).

Castro and Liskov's normal case (OSDI 1999): the primary multicasts a signed
PRE-PREPARE carrying the block; every backup that accepts it multicasts a
PREPARE for the block's digest; a replica is *prepared* once it holds the
pre-prepare and ``q - 1`` matching prepares from distinct backups, and then
multicasts a COMMIT; it *commits* once it holds ``q`` matching commits. ``q``
is the quorum of :func:`chain.consensus_rules.quorum` (``2f + 1`` for
``n = 3f + 1``). Every message is a real Ed25519 signature over
:func:`chain.certificate.vote_bytes`; arrival times follow the chain's
:class:`~chain.network.Links`.

Faulty replicas (:data:`SILENT`, :data:`EQUIVOCATE`) model the two failures of
the issue: a silent replica sends nothing; an equivocating primary sends one
block to half of the backups and a conflicting one to the other half, and
equivocating backups back whatever each honest replica was told (or a junk
digest when the primary is honest). Up to ``f`` of them cannot make honest
replicas commit different blocks; beyond ``f`` they may, which the outcome
reports as a safety violation. Honest PREPAREs relay the primary's signed
pre-prepare (as many PBFT implementations do), so conflicting pre-prepares
become a proof of equivocation that triggers a view change.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from chain.block import Block
from chain.certificate import Vote, sign_vote, vote_bytes
from chain.keys import PUBLIC_KEY_HEX_CHARS, SIGNATURE_BYTES, Identity, verify_signature_hex
from chain.metrics import ChainRecorder
from chain.network import Links

HONEST, SILENT, EQUIVOCATE = "honest", "silent", "equivocate"
FAULTY_BEHAVIOURS = (SILENT, EQUIVOCATE)
INF = math.inf


def vote_size_bytes(chain_id: str, height: int, view: int) -> int:
    """Wire size of a vote: its canonical message, signer key and signature."""
    message = vote_bytes(chain_id, height, "0" * 64, "prepare", view)
    return len(message) + PUBLIC_KEY_HEX_CHARS // 2 + SIGNATURE_BYTES


def junk_digest(height: int, view: int) -> str:
    """The digest a Byzantine backup votes for when the primary is honest."""
    return hashlib.sha256(b"gridledger/junk|%d|%d" % (height, view)).hexdigest()


@dataclass
class ViewSetup:
    """Everything one view of one height needs.

    Attributes:
        chain_id: The chain.
        height: Sequence number (block height).
        view: View number.
        members: Validator index of each committee position.
        behaviour: Behaviour of each position (honest, silent, equivocate).
        primary: Position of the primary.
        start_ms: When the primary multicasts its pre-prepare.
        deadline_ms: When honest replicas' view timers expire.
        proposals: Digest -> block the primary proposes.
        sent: Digest the primary sends to each position (None: nothing).
        quorum: Commit quorum ``q``.
        f: Tolerated faults (the reply quorum is ``f + 1``).
    """

    chain_id: str
    height: int
    view: int
    members: list[int]
    behaviour: list[str]
    primary: int
    start_ms: float
    deadline_ms: float
    proposals: dict[str, Block]
    sent: list[str | None]
    quorum: int
    f: int


@dataclass
class ViewOutcome:
    """What happened in one view.

    Attributes:
        decided: Digest decided (``f + 1`` honest replicas committed), or None.
        decide_ms: When the ``(f + 1)``-th honest replica committed.
        certificate: ``q`` commit votes for ``decided`` held by the first honest
            replica to commit.
        prepared: Honest position -> digest it was prepared on at the deadline.
        safety_violation: Honest replicas committed different digests.
        equivocation_ms: When an honest replica first held proof that the primary
            equivocated (two pre-prepares it signed for this height and view,
            one relayed in an honest PREPARE), or infinity.
    """

    decided: str | None = None
    decide_ms: float = INF
    certificate: list[Vote] = field(default_factory=list)
    prepared: dict[int, str] = field(default_factory=dict)
    safety_violation: bool = False
    equivocation_ms: float = INF


class _Messages:
    """Signs, delivers and counts the votes of one view."""

    def __init__(self, setup: ViewSetup, links: Links, keys: list[Identity], rec: ChainRecorder):
        self.setup, self.links, self.keys, self.rec = setup, links, keys, rec
        self.size = vote_size_bytes(setup.chain_id, setup.height, setup.view)
        self.votes: dict[tuple[str, int, str], Vote] = {}
        # recipient position -> phase -> list of (arrival, sender position, digest)
        self.inbox: dict[int, dict[str, list[tuple[float, int, str]]]] = {}

    def vote(self, phase: str, sender: int, digest: str) -> Vote:
        key = (phase, sender, digest)
        vote = self.votes.get(key)
        if vote is None:
            setup = self.setup
            identity = self.keys[setup.members[sender]]
            vote = sign_vote(identity, setup.chain_id, setup.height, digest, phase, setup.view)
            message = vote_bytes(setup.chain_id, setup.height, digest, phase, setup.view)
            # Receivers check the signature; honest ones run the same check, so once stands
            # for all (the count below records every receiver's check).
            if not verify_signature_hex(vote.signer, vote.signature, message):
                raise AssertionError("a freshly signed vote does not verify")
            self.rec.signatures_signed += 1
            self.votes[key] = vote
        return vote

    def send(self, phase: str, sender: int, digest: str, sent_ms: float, to: list[int]) -> None:
        if sent_ms > self.setup.deadline_ms or not to:
            return
        self.vote(phase, sender, digest)
        members = self.setup.members
        for recipient in to:
            arrival = sent_ms + self.links.delay_ms(members[sender], members[recipient], self.size)
            box = self.inbox.setdefault(recipient, {}).setdefault(phase, [])
            box.append((arrival, sender, digest))
        self.rec.message(phase, len(to), self.size)
        self.rec.signatures_verified += len(to)

    def received(self, recipient: int, phase: str) -> list[tuple[float, int, str]]:
        return self.inbox.get(recipient, {}).get(phase, [])


def _kth(times: list[float], k: int) -> float:
    """The k-th smallest time (1-based), or infinity if there are fewer."""
    if k <= 0:
        return -INF
    if len(times) < k:
        return INF
    return sorted(times)[k - 1]


def simulate_view(
    setup: ViewSetup, links: Links, keys: list[Identity], rec: ChainRecorder
) -> ViewOutcome:
    """Run one view's pre-prepare, prepare and commit phases.

    Args:
        setup: The view.
        links: Delays between validators.
        keys: Identities of all validators (indexed by validator index).
        rec: Where messages and signatures are counted.

    Returns:
        The outcome; messages sent after ``setup.deadline_ms`` are not sent.
    """
    m, p, q = len(setup.members), setup.primary, setup.quorum
    behaviour, members = setup.behaviour, setup.members
    honest = [k for k in range(m) if behaviour[k] == HONEST]
    everyone = list(range(m))
    msgs = _Messages(setup, links, keys, rec)
    # Pre-prepare: the block travels with the primary's signed vote.
    t_pp = [INF] * m
    got: list[str | None] = [None] * m
    if behaviour[p] != SILENT:
        for k in everyone:
            digest = setup.sent[k]
            if digest is None:
                continue
            got[k] = digest
            if k == p:
                t_pp[k] = setup.start_ms
                continue
            size = setup.proposals[digest].size_bytes + msgs.size
            t_pp[k] = setup.start_ms + links.delay_ms(members[p], members[k], size)
            msgs.vote("pre-prepare", p, digest)
            rec.message("pre-prepare", 1, size)
            rec.signatures_verified += 2  # the block's seal and the pre-prepare vote
    primary_faulty = behaviour[p] != HONEST
    junk = junk_digest(setup.height, setup.view)
    told = {r: (got[r] if primary_faulty and got[r] is not None else junk) for r in honest}
    # Prepare (backups only).
    for k in everyone:
        if k == p:
            continue
        others = [r for r in everyone if r != k]
        if behaviour[k] == HONEST and got[k] is not None:
            msgs.send("prepare", k, got[k], t_pp[k], others)  # type: ignore[arg-type]
        elif behaviour[k] == EQUIVOCATE:
            for r in honest:
                msgs.send("prepare", k, told[r], setup.start_ms, [r])
    prepared = [INF] * m
    for r in honest:
        digest = got[r]
        if digest is None:
            continue
        times = [t for t, s, d in msgs.received(r, "prepare") if d == digest and s != p]
        if r != p:
            times.append(t_pp[r])
        prepared[r] = max(t_pp[r], _kth(times, q - 1))
    # Commit.
    for k in everyone:
        others = [r for r in everyone if r != k]
        if behaviour[k] == HONEST and prepared[k] <= setup.deadline_ms:
            msgs.send("commit", k, got[k], prepared[k], others)  # type: ignore[arg-type]
        elif behaviour[k] == EQUIVOCATE:
            for r in honest:
                msgs.send("commit", k, told[r], setup.start_ms, [r])
    outcome = ViewOutcome()
    # Honest PREPAREs carry the primary's signed pre-prepare, so a replica told one
    # digest that receives an honest prepare for another holds proof of equivocation.
    for r in honest:
        if got[r] is None:
            continue
        for t, s, d in msgs.received(r, "prepare"):
            if behaviour[s] == HONEST and d != got[r]:
                outcome.equivocation_ms = min(outcome.equivocation_ms, max(t, t_pp[r]))
    committed: dict[int, tuple[float, list[tuple[float, int]]]] = {}
    for r in honest:
        if prepared[r] > setup.deadline_ms:
            continue
        outcome.prepared[r] = got[r]  # type: ignore[assignment]
        matching = [(t, s) for t, s, d in msgs.received(r, "commit") if d == got[r]]
        matching.append((prepared[r], r))
        matching.sort()
        if len(matching) >= q:
            at = max(prepared[r], matching[q - 1][0])
            if at <= setup.deadline_ms:
                committed[r] = (at, matching[:q])
    digests = {got[r] for r in committed}
    if len(digests) > 1:
        outcome.safety_violation = True
        return outcome
    if len(committed) >= setup.f + 1 or (committed and len(committed) == len(honest)):
        order = sorted(committed, key=lambda r: (committed[r][0], r))
        first = order[0]
        outcome.decided = got[first]
        outcome.decide_ms = committed[order[min(setup.f, len(order) - 1)]][0]
        outcome.certificate = [
            msgs.vote("commit", sender, outcome.decided)
            for _, sender in committed[first][1]  # type: ignore[arg-type]
        ]
    return outcome


def simulate_view_change(
    setup: ViewSetup,
    failed_at_ms: float,
    prepared: dict[int, str],
    links: Links,
    keys: list[Identity],
    rec: ChainRecorder,
) -> tuple[float, str | None]:
    """VIEW-CHANGE to ``setup.view`` and the new primary's NEW-VIEW.

    Every replica that is not silent multicasts a signed VIEW-CHANGE at
    ``failed_at_ms`` carrying the digest it is prepared on (if any). The new
    primary ``setup.primary`` starts the view once it holds ``q`` of them; the
    NEW-VIEW re-proposes a block some of those replicas were prepared on, or a
    new block.

    Args:
        setup: The *new* view (``deadline_ms`` unused).
        failed_at_ms: When the previous view's timers expired.
        prepared: Honest position -> digest prepared in the failed view.
        links: Delays between validators.
        keys: Validator identities.
        rec: Counters.

    Returns:
        ``(start of the new view or infinity, carried-over digest or None)``.
    """
    m, p, q = len(setup.members), setup.primary, setup.quorum
    members = setup.members
    size = vote_size_bytes(setup.chain_id, setup.height, setup.view)
    senders = [k for k in range(m) if setup.behaviour[k] != SILENT]
    for k in senders:
        digest = prepared.get(k, "0" * 64)
        sign_vote(keys[members[k]], setup.chain_id, setup.height, digest, "view-change", setup.view)
        rec.signatures_signed += 1
        # A prepared replica attaches its prepare certificate (q votes).
        extra = q * size if k in prepared else 0
        rec.message("view-change", m - 1, size + extra)
        rec.signatures_verified += m - 1
    if setup.behaviour[p] == SILENT:
        return INF, None
    arrivals = sorted(
        (failed_at_ms + links.delay_ms(members[k], members[p], size), k) for k in senders
    )
    if len(arrivals) < q:
        return INF, None
    start = arrivals[q - 1][0]
    carried = next((prepared[k] for _, k in arrivals[:q] if k in prepared), None)
    rec.message("new-view", m - 1, q * size)
    rec.signatures_signed += 1
    rec.signatures_verified += m - 1
    return start, carried
