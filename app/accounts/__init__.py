"""Accounts: users, roles scoped to a region, login."""
