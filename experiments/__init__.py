"""Entry points of gridledger: the Hydra app, the ledger verifier, config schemas."""
