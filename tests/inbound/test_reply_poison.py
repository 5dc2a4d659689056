"""Inputs that once took minutes in reply trimming (issue 9 §1), at 200 KB to 1 MB: they run and
give the right result. How the time grows with the size is measured by
``bench/reply_scores.py --scaling``, not timed here."""

from __future__ import annotations

import multiprocessing

import pytest

from mailbot.inbound.html_text import html_to_text
from mailbot.inbound.reply import new_text


def test_many_original_message_lines():
    assert new_text("-----Original Message-----\n" * 40_000) == ""
    assert new_text("Answer.\n" + "-----Original Message-----\n" * 40_000) == "Answer."


def test_many_quote_lines():
    assert new_text("hello\n" + ">\n" * 200_000) == "hello"
    # A reply is read up to its 5,000th line: text below a longer quote is not read.
    assert new_text("hello\n" + ">\n" * 200_000 + "bye") == "hello"
    assert new_text("hello\n" + ">\n" * 4_000 + "bye") == "hello\n" + ">\n" * 4_000 + "bye"


def test_a_long_line_of_intro_words():
    text = "x " + "Op " * 300_000
    assert new_text(text) == text.strip()
    assert new_text("On 1 Jan 2020 12:00 a@b.example wrote:\n" * 30_000) == ""
    assert new_text("Op 1 jan 2020 12:00 schreef\n" * 30_000) == ""


def test_many_rules_and_header_lines():
    assert new_text("----\n" * 200_000) == ""
    assert new_text("Answer.\n" + "----\n" * 200_000) == "Answer."
    assert new_text("From: a@b.example\n" * 50_000) == ""


def test_much_html():
    assert html_to_text("<br>" * 250_000) == ""
    assert html_to_text("<p>a" * 200_000) == "\n".join(["a"] * 200_000)
    assert html_to_text("<a " * 300_000) == ""
    # Read up to 1,000,000 characters: the rest of a longer body is not shown.
    assert html_to_text("<p>a" * 300_000) == "\n".join(["a"] * 250_000)


def _trim_in_child(text: str) -> None:
    new_text(text)


@pytest.mark.e2e  # a child process: the old pattern could only be stopped from outside
def test_a_long_word_after_a_sign_off_is_read_in_linear_time():
    # "\s*,?\s*" between name words let the regex split one 120-letter word every way (n**6:
    # minutes); the child is given 20 s, which the fixed pattern needs milliseconds of.
    child = multiprocessing.get_context("spawn").Process(
        target=_trim_in_child, args=("Hallo daar\n\nMet vriendelijke groet, A" + "a" * 120 + "#",))
    child.start()
    child.join(20)
    finished = child.exitcode == 0
    child.kill()
    child.join()
    assert finished
    assert new_text("Dank je.\n\nMet vriendelijke groet, Jan de Vries") == "Dank je."
    assert new_text("Dank je.\n\nGroet,\nJan, Piet") == "Dank je."
