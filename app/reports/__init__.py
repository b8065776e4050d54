"""Roll-ups for any region and period, the pilot registry and the yearly pilot evaluation
(issue 7). Reads from ``scoring``, ``households`` and ``review``; never written to by them."""
