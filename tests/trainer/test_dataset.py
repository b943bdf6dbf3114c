from __future__ import annotations

import pytest

from opto.trainer import Dataset


def test_pairs_and_dict_shapes_give_the_same_examples():
    a = Dataset.of([("q1", "a1"), ("q2", "a2")])
    b = Dataset.of({"inputs": ["q1", "q2"], "infos": ["a1", "a2"]})
    assert [(e.index, e.input, e.info) for e in a] == [(e.index, e.input, e.info) for e in b] == [
        (0, "q1", "a1"), (1, "q2", "a2")]
    assert a.key(a[1]) == "train:1"
    assert Dataset.of(a, "val").key(a[0]) == "val:0"


@pytest.mark.parametrize("bad, message", [
    ({"inputs": [1, 2]}, "'inputs' and 'infos'"),
    ({"inputs": [1, 2], "infos": [1]}, "pair up"),
    ([1, 2], "item #0 must be an (input, info) pair"),
    ("text", "list of (input, info) pairs"),
])
def test_bad_shapes_name_the_accepted_ones(bad, message):
    with pytest.raises((TypeError, ValueError), match=message.replace("(", r"\(").replace(")", r"\)")):
        Dataset.of(bad)


def test_batches_are_a_seeded_shuffle_per_epoch():
    d = Dataset.of([(i, i) for i in range(10)])
    one = [[e.index for e in b] for b in d.batches(3, epoch=0, seed=7)]
    assert one == [[e.index for e in b] for b in d.batches(3, epoch=0, seed=7)]
    assert one != [[e.index for e in b] for b in d.batches(3, epoch=1, seed=7)]
    assert [len(b) for b in one] == [3, 3, 3, 1] and sorted(sum(one, [])) == list(range(10))
    assert [[e.index for e in b] for b in d.batches(4, 0, 7, shuffle=False)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert d.steps_per_epoch(3) == 4
