"""One profile per person: the deterministic identity graph, merges and unmerges."""
