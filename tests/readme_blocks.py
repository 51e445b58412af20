"""The fenced code blocks of a Markdown file, and whether each is code to run.

A block is code to run when its language is `python` or `sh`, unless the line just before its fence says why
not: `<!-- not run: sends requests to production -->`. Every other block names what it is instead (`json`,
`ini`, `toml`, `text` for output), so no block is left unlabelled.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

RUN_LANGUAGES = frozenset({"python", "sh"})
SHOWN_LANGUAGES = frozenset({"json", "ini", "toml", "text", "yaml"})
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<language>\S*)\s*$")
_NOT_RUN = re.compile(r"^\s*<!-- not run: (?P<reason>\S.*?) -->\s*$")


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    not_run: str | None  # the reason given, if the block is marked

    @property
    def runs(self) -> bool:
        return self.language in RUN_LANGUAGES and self.not_run is None

    @property
    def is_pytest_module(self) -> bool:
        return self.language == "python" and re.search(r"^(async )?def test_", self.code, re.MULTILINE) is not None


def code_blocks(markdown: str) -> list[Block]:
    """Every fenced block, in order. An unclosed fence raises ValueError naming its line."""
    lines = markdown.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = opening["indent"]
        marker = _NOT_RUN.match(lines[index - 1]) if index > 0 else None
        closing = next(
            (end for end in range(index + 1, len(lines)) if lines[end].strip() == "```"),
            None,
        )
        if closing is None:
            raise ValueError(f"line {index + 1}: a ``` fence is never closed")
        body = "\n".join(line.removeprefix(indent) for line in lines[index + 1 : closing])
        blocks.append(
            Block(
                line=index + 1,
                language=opening["language"],
                code=textwrap.dedent(body) + "\n",
                not_run=marker["reason"] if marker else None,
            )
        )
        index = closing + 1
    return blocks
