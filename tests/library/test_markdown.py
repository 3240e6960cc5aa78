from __future__ import annotations

from commhub.library.markdown import render_markdown


def test_renders_commonmark_with_tables() -> None:
    html = render_markdown(
        "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n**bold** [x](https://e.example)"
    )
    assert "<h1>Title</h1>" in html
    assert "<table>" in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://e.example"' in html


def test_scripts_handlers_and_javascript_urls_are_removed() -> None:
    html = render_markdown(
        '<script>alert(1)</script>\n\n<img src="x" onerror="alert(2)">\n\n'
        "[click](javascript:alert(3))\n\n<a href='javascript:alert(4)'>raw</a>\n\n"
        "<iframe src='https://evil.example'></iframe>"
    )
    assert "<script" not in html
    assert "alert(1)" not in html
    assert "onerror" not in html
    assert 'href="javascript' not in html
    assert "href='javascript" not in html
    assert "<iframe" not in html
