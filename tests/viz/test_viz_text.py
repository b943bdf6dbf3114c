"""Shortening and escaping of values shown in pictures."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from opto.viz.text import ELLIPSIS, html_text, preview, printable, shorten, text_lines


def test_shorten_middle_keeps_both_ends() -> None:
    assert shorten("abcdefghij", 5) == "ab" + ELLIPSIS + "ij"
    assert shorten("abcdefghij", 5, ellipsis="end") == "abcd" + ELLIPSIS
    assert shorten("short", 100) == "short"


@given(st.text(), st.integers(min_value=1, max_value=300), st.sampled_from(["middle", "end"]))
def test_shorten_never_exceeds_limit(text: str, limit: int, ellipsis: str) -> None:
    out = shorten(text, limit, ellipsis)  # type: ignore[arg-type]
    assert len(out) <= limit
    assert out == text or ELLIPSIS in out


def test_preview_is_bounded_and_cheap_for_huge_values() -> None:
    assert len(preview("x" * 10_000_000, 50)) <= 50
    assert len(preview(list(range(1_000_000)), 50)) <= 50
    assert len(preview(b"\x00" * 1_000_000, 50)) <= 50
    assert preview(3) == "3"


def test_preview_survives_broken_repr() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("nope")

    assert preview(Broken()) == "<unrepresentable Broken: RuntimeError>"


def test_printable_escapes_what_xml_rejects() -> None:
    assert printable("a\x00b\x1bc\ud800") == "a\\x00b\\x1bc\\ud800"
    assert printable("ünï 🎉\nok") == "ünï 🎉\nok"


def test_html_text_escapes_markup_and_breaks_lines() -> None:
    out = html_text("<b>&\"'\nnext")
    assert "<b>" not in out and "&lt;b&gt;&amp;&quot;" in out
    assert out.endswith('<BR ALIGN="LEFT"/>next')
    assert html_text("a\\N") == "a\\\\N"  # dot would otherwise put the node name here


def test_text_lines_caps_lines_and_counts_the_rest() -> None:
    text = "def f(x):\n\treturn x\n" + "\n".join(f"# line {i}" for i in range(20)) + "\n\n"
    lines = text_lines(text, max_lines=4, line_limit=30)
    assert lines == ["def f(x):", "    return x", "# line 0", "# line 1", f"{ELLIPSIS} (18 more lines)"]


def test_text_lines_cuts_at_a_word_boundary_when_one_is_near() -> None:
    assert text_lines("alpha beta gamma delta epsilon", line_limit=20) == ["alpha beta gamma" + ELLIPSIS]
    assert text_lines("x" * 50, line_limit=10) == ["x" * 9 + ELLIPSIS]
    assert text_lines("    indented_word_that_is_long", line_limit=12) == ["    indente" + ELLIPSIS]


@given(st.text(), st.integers(min_value=1, max_value=200))
def test_text_lines_never_exceed_the_width(text: str, limit: int) -> None:
    for line in text_lines(text, max_lines=5, line_limit=limit)[:5]:
        assert len(line) <= max(limit, 1)
