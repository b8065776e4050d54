"""Points supermarket (积分超市): catalogue, stock, redemption at the counter.

Reads the ledger through ``app.scoring`` and spends through ``scoring.services.spend``;
scoring never imports this package.
"""
