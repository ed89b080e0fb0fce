"""One random stream per concern, each derived from the run's seed and the concern's name, so
adding a new act (or drawing more numbers in one) leaves every other act's draws unchanged."""

from __future__ import annotations

import hashlib
import random


def stream(seed: int, concern: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{concern}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))
