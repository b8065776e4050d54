"""Honours (好人榜, 最美村户 ... and village-defined titles) and star households (星级文明户):
nomination, public notice, award; star ratings derived from ``scoring.queries.standings`` and
the rulebook's star bands, frozen by a conferment."""
