"""The GIL hand-off while a big batch is validated in a thread (cxbot/listener/handoff.py)."""

from __future__ import annotations

import sys
import threading

from cxbot.listener.handoff import QUICK_SWITCH_S, quick_gil_handoff


def test_the_short_interval_holds_while_any_parse_runs_and_is_restored_after() -> None:
    before = sys.getswitchinterval()
    assert before > QUICK_SWITCH_S  # CPython's default is 5 ms
    with quick_gil_handoff():
        assert sys.getswitchinterval() == QUICK_SWITCH_S
        with quick_gil_handoff():  # a second app's parse in the same process
            assert sys.getswitchinterval() == QUICK_SWITCH_S
        assert sys.getswitchinterval() == QUICK_SWITCH_S  # the first is still running
    assert sys.getswitchinterval() == before


def test_an_error_in_the_parse_restores_the_interval() -> None:
    before = sys.getswitchinterval()
    try:
        with quick_gil_handoff():
            raise ValueError("bad batch")
    except ValueError:
        pass
    assert sys.getswitchinterval() == before


def test_parses_in_several_threads_leave_the_interval_as_it_was() -> None:
    before = sys.getswitchinterval()
    start = threading.Barrier(8)

    def parse() -> None:
        start.wait()
        for _ in range(200):
            with quick_gil_handoff():
                pass

    threads = [threading.Thread(target=parse) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sys.getswitchinterval() == before
