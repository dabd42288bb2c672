"""Faust's per-partition gap set, as the chunking consumer keeps it (worker.transport.OffsetGaps):
the same answers as the intervaltree.IntervalTree Faust keeps by default, for every operation
Faust's consumer performs on it."""

import random

import pytest
from intervaltree import IntervalTree

from worker.transport import ChunkingConsumer, Gap, OffsetGaps


def _tree_ranges(tree: IntervalTree) -> list[tuple[int, int]]:
    return sorted((iv.begin, iv.end) for iv in tree)


def _ranges(gaps: OffsetGaps) -> list[tuple[int, int]]:
    return [(g.begin, g.end) for g in gaps]


def test_gaps_in_offset_order_are_appended_and_touching_ranges_stay_apart():
    gaps = OffsetGaps()
    gaps.addi(10, 19)
    gaps.addi(20, 29)
    gaps.addi(29, 40)           # touches [20, 29): kept apart, as intervaltree's strict merge does
    assert _ranges(gaps) == [(10, 19), (20, 29), (29, 40)]


def test_an_overlapping_or_repeated_gap_is_merged():
    gaps = OffsetGaps()
    gaps.addi(10, 19)
    gaps.addi(10, 19)
    gaps.addi(15, 25)
    gaps.addi(1, 3)
    assert _ranges(gaps) == [(1, 3), (10, 25)]


def test_overlap_and_chop_as_faust_uses_them_when_committing():
    gaps = OffsetGaps()
    for begin in range(0, 100, 10):
        gaps.addi(begin, begin + 9)             # chunks of 10: the last offset of each is the message
    assert gaps.overlap(0, 29) == [Gap(0, 9), Gap(10, 19), Gap(20, 29)]
    gaps.chop(0, 30)
    assert _ranges(gaps)[0] == (30, 39)
    gaps.chop(0, 35)                            # a range straddling the cut is trimmed
    assert _ranges(gaps)[0] == (35, 39)
    gaps.chop(50, 55)                           # a cut inside a range splits it
    assert (50, 55) not in _ranges(gaps) and (55, 59) in _ranges(gaps)
    assert not OffsetGaps() and gaps


def test_a_null_gap_is_refused_like_intervaltree_does():
    with pytest.raises(ValueError):
        OffsetGaps().addi(5, 5)
    with pytest.raises(ValueError):
        IntervalTree().addi(5, 5)


@pytest.mark.parametrize("seed", range(40))
def test_random_operations_give_the_same_answers_as_intervaltree(seed):
    rng = random.Random(seed)
    tree, gaps = IntervalTree(), OffsetGaps()
    position = 0
    for _ in range(300):
        op = rng.random()
        if op < 0.6:
            if rng.random() < 0.8:              # mostly in offset order, as fetches deliver them
                begin = position + rng.randint(0, 3)
            else:
                begin = rng.randint(0, position + 5)
            end = begin + rng.randint(1, 12)
            position = max(position, end)
            tree.addi(begin, end)
            tree.merge_overlaps()               # Faust merges after every add
            gaps.addi(begin, end)
            gaps.merge_overlaps()
            assert _ranges(gaps) == _tree_ranges(tree)
        elif op < 0.85:
            begin = rng.randint(0, position)
            end = begin + rng.randint(0, 30)
            assert sorted(gaps.overlap(begin, end)) == sorted(Gap(iv.begin, iv.end) for iv in tree.overlap(begin, end))
        else:
            begin = rng.randint(0, position)
            end = begin + rng.randint(1, 40)
            tree.chop(begin, end)
            gaps.chop(begin, end)
            assert _ranges(gaps) == _tree_ranges(tree)
        assert bool(gaps) == bool(tree)


def test_the_chunking_consumer_keeps_its_gaps_in_offset_gaps():
    # Faust's consumer creates `_gap` in __init__; the driver replaces the default factory.
    import faust

    app = faust.App("offset-gaps-test", broker="kafka+chunks://127.0.0.1:1")
    async def no_op(*_args):
        return None

    consumer = app.transport.create_consumer(callback=no_op, on_partitions_revoked=no_op,
                                             on_partitions_assigned=no_op)
    assert isinstance(consumer, ChunkingConsumer)
    assert isinstance(consumer._gap["any-partition"], OffsetGaps)
