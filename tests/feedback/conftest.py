from __future__ import annotations

import pytest

from tillit.insight.embeddings import E5Embedder


@pytest.fixture(scope="session")
def e5() -> E5Embedder:
    return E5Embedder()
