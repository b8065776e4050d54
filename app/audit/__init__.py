"""Township audit (乡镇审核): a read-only explorer over the ledgers of the user's region, its
anomaly flags, exports with the chain heads, and the log of administrative actions."""
