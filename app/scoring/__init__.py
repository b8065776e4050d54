"""The ledger: posting, reversal, balances, periods and the one ranking function."""
