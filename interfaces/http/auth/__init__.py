"""HTTP routes of the auth area."""
