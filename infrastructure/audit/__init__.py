"""Audit infrastructure: the signing key, checkpoints, exports."""
