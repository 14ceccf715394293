"""What Telegram checks in a message, and what one recorded API call holds."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_MESSAGE_CHARS = 4096

_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
    "tg-spoiler", "tg-emoji", "blockquote",
}  # fmt: skip
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9A-Fa-f]+);")


def html_problem(text: str) -> str | None:
    """Why Telegram would reject ``text`` in HTML parse mode, or None if it would accept it."""
    stack: list[str] = []
    plain, position = [], 0
    for match in _TAG.finditer(text):
        plain.append(text[position : match.start()])
        position = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in _ALLOWED_TAGS:
            return f'unsupported start tag "{name}"'
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return f'unexpected end tag "{name}"'
    plain.append(text[position:])
    rest = _ENTITY.sub("", "".join(plain))
    if stack:
        return f'unclosed tag "{stack[-1]}"'
    if "<" in rest or ">" in rest:
        return "unescaped < or >"
    if "&" in rest:
        return "unescaped &"
    return None


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, str]
    at: float = field(default_factory=time.monotonic, compare=False)  # when it arrived


def iter_texts(calls: list[ApiCall]) -> Iterator[str]:
    for call in calls:
        if "text" in call.params:
            yield call.params["text"]
