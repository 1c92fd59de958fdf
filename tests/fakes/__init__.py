"""Local stand-ins for outside systems, for tests (nothing here reaches the internet)."""
