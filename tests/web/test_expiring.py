from __future__ import annotations

from tillit.web import expiring
from tillit.web.expiring import ExpiringCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_value_lasts_its_window_and_no_longer() -> None:
    clock = Clock()
    cache: ExpiringCache[str] = ExpiringCache(10.0, clock=clock)
    assert cache.get("tlw_kilde") is None
    cache.put("tlw_kilde", "butik (web)")
    clock.now += 9.9
    assert cache.get("tlw_kilde") == "butik (web)"
    clock.now += 0.1
    assert cache.get("tlw_kilde") is None


def test_a_shorter_time_wins_but_never_a_longer_one() -> None:
    clock = Clock()
    cache: ExpiringCache[str] = ExpiringCache(10.0, clock=clock)
    cache.put("token-snart", "expires soon", seconds=2.0)
    cache.put("token-lang", "expires late", seconds=3600.0)
    clock.now += 2.0
    assert cache.get("token-snart") is None
    assert cache.get("token-lang") == "expires late"
    clock.now += 8.0
    assert cache.get("token-lang") is None  # the window holds even for a long-lived token


def test_expire_all_and_the_size_bound() -> None:
    cache: ExpiringCache[int] = ExpiringCache(10.0)
    for n in range(expiring.MAX_ENTRIES):
        cache.put(f"klant-{n}", n)
    assert cache.get("klant-0") == 0
    cache.put("one-more", -1)  # past the bound: the old entries go, the new one stays
    assert cache.get("klant-0") is None and cache.get("one-more") == -1
    cache.expire_all()
    assert cache.get("one-more") is None
