"""Turn HTML and Markdown into a title and text blocks, with BeautifulSoup and markdown-it."""

from __future__ import annotations

from bs4 import BeautifulSoup
from bs4.element import Tag
from markdown_it import MarkdownIt

# Elements whose text is a paragraph of the article; the rest (menus, scripts) is left out.
_BLOCK_TAGS = ["p", "li", "blockquote", "pre", "h2", "h3", "h4", "h5", "h6", "td"]
_DROPPED_TAGS = ["script", "style", "nav", "header", "footer", "aside", "form", "noscript"]


def markdown_to_html(text: str) -> str:
    """Render Markdown (CommonMark) to HTML so one reader serves both kinds."""
    return MarkdownIt("commonmark").render(text)


def html_blocks(html: str) -> tuple[str, list[str]]:
    """Return the document's title and the text of its body blocks, in order.

    The title is ``<title>``, or the first ``<h1>`` when there is none. A ``<time datetime>``
    becomes the first block so that the byline date is found like in a text file.
    """
    soup = BeautifulSoup(html, "html.parser")
    heading = soup.find("h1")
    title_tag = soup.find("title")
    title = _text(title_tag) if isinstance(title_tag, Tag) else ""
    if not title and isinstance(heading, Tag):
        title = _text(heading)
    blocks: list[str] = []
    published = soup.find("meta", attrs={"property": "article:published_time"})
    time_tag = soup.find("time")
    if isinstance(published, Tag) and isinstance(published.get("content"), str):
        blocks.append(str(published["content"]))
    elif isinstance(time_tag, Tag) and isinstance(time_tag.get("datetime"), str):
        blocks.append(str(time_tag["datetime"]))
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for line_break in soup.find_all("br"):
        line_break.replace_with(" ")
    body = soup.body or soup
    for block in body.find_all(_BLOCK_TAGS):
        # A <p> inside an <li> would otherwise be read twice.
        if block.find_parent(_BLOCK_TAGS) is None:
            text = _text(block)
            if text:
                blocks.append(text)
    return title, blocks


def _text(tag: Tag) -> str:
    # No separator: inline tags ("<b>1,500</b>.") must not gain spaces before punctuation.
    return " ".join(tag.get_text().split())
