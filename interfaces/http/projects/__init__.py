"""HTTP routes of the projects area."""
