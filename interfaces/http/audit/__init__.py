"""Audit routes: the global log, histories, past states, the chain."""
