"""Account administration routes (admin)."""
