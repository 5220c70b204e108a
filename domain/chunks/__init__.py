"""The chunks area: the pure, deterministic, versioned text splitter."""
