"""gridledger chain library: signed transactions, blocks, ledger, consensus and export.

A standalone, deterministic blockchain model for the simulator. It imports
only the standard library, numpy, pandas, pyarrow and cryptography.

Typical use::

    chain = Chain(genesis, ProofOfAuthority(), validators)   # or ProofOfWork(), Pbft(), ...
    chain.submit([sign_transaction(identity, tx)])
    chain.advance_to(time_ms)
    write_ledger(run_dir, [chain])
    assert verify_run(run_dir).ok
"""

from chain.block import Block, BlockHeader, seal_block
from chain.certificate import Certificate, Vote, vote_bytes
from chain.consensus import Central, Hybrid, Pbft, ProofOfAuthority, ProofOfWork
from chain.encoding import canonical_bytes, sha256_hex
from chain.errors import (
    BadBlockHash,
    BadCertificate,
    BadHeight,
    BadMerkleRoot,
    BadPrevHash,
    BadProposerSignature,
    BlockTooEarly,
    ConsensusHalted,
    FutureNonce,
    InsufficientWork,
    InvalidBlock,
    InvalidSignature,
    InvalidTransaction,
    LedgerError,
    NotAValidator,
    Overdraft,
    SignerTooRecent,
    StaleNonce,
    TimestampRegression,
    UnregisteredSender,
)
from chain.export import LEDGER_FORMAT, read_ledger, write_ledger
from chain.genesis import Genesis
from chain.keys import Identity, verify_signature
from chain.ledger import Ledger
from chain.mempool import Mempool
from chain.merkle import merkle_root
from chain.network import NetworkModel
from chain.node import Chain, make_genesis
from chain.replay import load_chains, replay_run
from chain.transaction import (
    SignedTransaction,
    Transaction,
    sign_transaction,
    sign_transactions,
)
from chain.verify import NotARunDirectory, VerificationReport, verify_run

__all__ = [
    "LEDGER_FORMAT",
    "BadBlockHash",
    "BadCertificate",
    "BadHeight",
    "BadMerkleRoot",
    "BadPrevHash",
    "BadProposerSignature",
    "Block",
    "BlockHeader",
    "BlockTooEarly",
    "Central",
    "Certificate",
    "Chain",
    "ConsensusHalted",
    "FutureNonce",
    "Genesis",
    "Hybrid",
    "Identity",
    "InsufficientWork",
    "InvalidBlock",
    "InvalidSignature",
    "InvalidTransaction",
    "Ledger",
    "LedgerError",
    "Mempool",
    "NetworkModel",
    "NotARunDirectory",
    "NotAValidator",
    "Overdraft",
    "Pbft",
    "ProofOfAuthority",
    "ProofOfWork",
    "SignedTransaction",
    "SignerTooRecent",
    "StaleNonce",
    "TimestampRegression",
    "UnregisteredSender",
    "Transaction",
    "VerificationReport",
    "Vote",
    "canonical_bytes",
    "load_chains",
    "make_genesis",
    "merkle_root",
    "read_ledger",
    "replay_run",
    "seal_block",
    "sha256_hex",
    "sign_transaction",
    "sign_transactions",
    "verify_run",
    "verify_signature",
    "vote_bytes",
    "write_ledger",
]
