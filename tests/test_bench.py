"""The benchmark's schedule (tests/bench/exchange.py): CI never runs the benchmark itself,
so what would break it silently is checked here: the two sizes asked in turns for the same
page, the first measure of each discarded, the medians, and the line protocol between the
measuring processes and this one."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.bench import exchange as bench

REPOSITORY = Path(bench.__file__).resolve().parents[2]


class _Recorded:
    """A size's process that answers from a list and notes who was asked, in order."""

    def __init__(self, size: int, asked: list, answers: list[tuple[float, float]]) -> None:
        self.size, self.asked, self.answers = size, asked, iter(answers)
        self.pages = ["a page"]

    def measure(self, page: str) -> tuple[float, float]:
        self.asked.append((self.size, page))
        return next(self.answers)


def test_sizes_are_asked_in_turns_each_going_first_in_turn(monkeypatch):
    monkeypatch.setattr(bench, "RUNS", 3)
    asked: list = []
    # The first answer of each is its warm-up, discarded: a wild value shows if it is not.
    small = _Recorded(1, asked, [(999.0, 999.0), (1.0, 0.5), (3.0, 0.5), (2.0, 0.7)])
    large = _Recorded(100, asked, [(999.0, 999.0), (10.0, 4.0), (30.0, 6.0), (20.0, 5.0)])

    measured = bench._in_turns({1: small, 100: large})

    page = "a page"
    assert asked == [
        (1, page),
        (100, page),  # warm-ups
        (1, page),
        (100, page),
        (100, page),  # the larger size first in the second run
        (1, page),
        (1, page),
        (100, page),
    ]
    assert measured == {1: {page: (2.0, 0.5)}, 100: {page: (20.0, 5.0)}}


def test_measuring_processes_answer_on_their_own_lines(tmp_path, monkeypatch):
    """Real processes, started as ``compare`` starts them: what they print while loading
    goes to standard error, and each answer is the measure of the page asked for."""
    (tmp_path / "fake_bench.py").write_text(
        textwrap.dedent(
            """
            import itertools
            import sys

            from tests.bench.exchange import main


            def probes(size):
                print("loading the listings…")  # must not reach the answers
                calls = itertools.count()
                return {
                    "page": lambda: (size + next(calls), 0.5),
                    "other": lambda: (-1.0, -1.0),
                }


            if __name__ == "__main__":
                sys.exit(main(probes, "fake_bench"))
            """
        )
    )
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}:{REPOSITORY}")
    monkeypatch.setattr(bench, "RUNS", 5)
    processes = {}
    try:
        for size in (1, 100):
            processes[size] = bench._Size("fake_bench", size)
        assert processes[1].pages == ["page", "other"]
        assert processes[100].measure("other") == (-1.0, -1.0)
        assert processes[100].measure("page") == (100.0, 0.5)
    finally:
        for process in processes.values():
            process.close()
    assert [process.process.returncode for process in processes.values()] == [0, 0]


def test_a_process_that_ends_is_reported_with_its_exit_code(tmp_path, monkeypatch):
    (tmp_path / "broken_bench.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"^the 1 listings' process ended: 3$"):
        bench._Size("broken_bench", 1)
