"""Regions: city > county > township > village > villager group, and the one scoped query."""
