"""HTTP routes of the urls area."""
