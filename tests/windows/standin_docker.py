"""Stand-in recordings (filled in below)."""

PROGRAMS: list = []
