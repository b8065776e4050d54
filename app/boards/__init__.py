"""Red/black boards, derived from the ledger's one ranking function (never stored twice)."""
