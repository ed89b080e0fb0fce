from __future__ import annotations

from tests.identity.synthetic import two_systems
from tillit.identity.matching import link, precision_recall


def test_splink_finds_the_same_people_in_two_systems_without_labels() -> None:
    store, web = two_systems(1500, seed=3)
    by_person = {s.person: s.record_id for s in store}
    truth = {(by_person[w.person], w.record_id) for w in web if w.person in by_person}
    pairs = link([r.as_dict() for r in store], [r.as_dict() for r in web], threshold=0.99)
    precision, recall = precision_recall(pairs, truth)
    assert precision > 0.9
    assert recall > 0.9
    assert all(0.99 <= p.probability <= 1 for p in pairs)
