"""Models of this app (written with its feature)."""
