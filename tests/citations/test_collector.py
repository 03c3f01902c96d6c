"""The garbage collector is paused while an entry is formatted, and always restored."""

from __future__ import annotations

import gc
import threading

import pytest

from library.catalogue import citation_store
from library.citations import styles
from library.citations.collector import collector_paused
from tests.citations.corpus import NASTY


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_the_body_runs_with_the_collector_off_and_it_is_on_again_after():
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_exception_restores_it():
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("x")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_in_two_threads_resume_only_when_both_end():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with collector_paused():
            first_in.set()
            second_in.wait()
        first_out.set()

    def second() -> None:
        first_in.wait()
        with collector_paused():
            second_in.set()
            first_out.wait()
            seen["after the first ended"] = gc.isenabled()
        seen["after both"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"after the first ended": False, "after both": True}


def test_the_cite_box_formats_with_the_collector_paused(db, monkeypatch):
    states = []
    real = styles._render

    def render(*args, **kwargs):
        states.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(styles, "_render", render)
    (html,) = citation_store.formatted_citations([(NASTY[0], None)], "apa")
    assert "Mosul Operation" in html
    assert states == [False]
    assert gc.isenabled()


def test_one_formatted_entry_leaves_few_cycles_behind():
    # Why pausing is safe: what citeproc-py allocates is freed by reference counting,
    # all but a few dozen objects, which the next collection takes.
    styles.format_bibliography([NASTY[0]], "apa", numbered=False)
    gc.collect()
    with collector_paused():
        styles.format_bibliography([NASTY[0]], "apa", numbered=False)
        left = gc.collect()
    assert left < 200
