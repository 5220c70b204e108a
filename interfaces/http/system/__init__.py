"""HTTP routes of the system area."""
