"""Exception event admin (compliance officers' review queue)."""
