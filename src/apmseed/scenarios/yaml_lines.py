"""YAML with line numbers: scenario files are composed into a node tree (not constructed straight into dicts) so
every value keeps the line of its key, and every error can say `FILE:LINE: problem (fix)`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from apmseed.errors import ApmseedError

MAX_DEPTH = 50  # deeper than any scenario needs; also stops recursive aliases
YAML_TAG = "tag:yaml.org,2002:"
SCALAR_KINDS = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true/false",
                "null": "null (empty)", "timestamp": "a timestamp"}


@dataclass(frozen=True)
class Issue:
    """One problem in one scenario, pointing at the line of the offending key (0 = no file, e.g. the builder)."""

    source: str
    line: int
    problem: str
    fix: str

    @property
    def location(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source

    def __str__(self) -> str:
        return f"{self.location}: {self.problem} ({self.fix})"


class ScenarioError(ApmseedError):
    """Every problem found in a scenario; `str()` is the first one (the CLI prints one line), `issues` all."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        first = self.issues[0]
        more = len(self.issues) - 1
        fix = first.fix if not more else (f"{first.fix}; {more} more problem(s): "
                                          f"run `apmseed scenarios validate {first.source}`")
        super().__init__(f"{first.location}: {first.problem}", fix)


@dataclass
class Node:
    """A YAML value and the line (1-based) of the key that holds it, or of the list item; `kind` is
    map, seq or a scalar kind (str, int, float, bool, null, timestamp)."""

    value: Any  # dict[str, Node] | list[Node] | scalar
    line: int
    kind: str

    @property
    def described(self) -> str:
        if self.kind == "map":
            return "a mapping"
        if self.kind == "seq":
            return "a list"
        return f"{SCALAR_KINDS.get(self.kind, self.kind)} ({self.value!r})"

    def plain(self) -> Any:
        """The plain Python value (timestamps stay strings, as a JSON Schema validator expects)."""
        if self.kind == "map":
            return {k: v.plain() for k, v in self.value.items()}
        if self.kind == "seq":
            return [v.plain() for v in self.value]
        return self.value


def parse_yaml(text: str, source: str) -> Node:
    """The document as a Node tree; syntax errors, duplicate keys, non-string keys and unsupported tags
    raise ScenarioError with the line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(str(p) for p in (err.context, err.problem) if p)
        fix = "keep one scenario per file" if "another document" in problem \
            else "fix the indentation or quoting at that line"
        raise ScenarioError([Issue(source, line, f"YAML syntax error: {problem}", fix)]) from None
    except yaml.YAMLError as err:
        raise ScenarioError([Issue(source, 1, f"YAML error: {err}", "check the file is YAML")]) from None
    if root is None:
        raise ScenarioError([Issue(source, 1, "the scenario file is empty",
                                   "start from `apmseed scenarios show steady`")])
    issues: list[Issue] = []
    node = _convert(root, root.start_mark.line + 1, source, issues, SafeConstructor(), 0)
    if issues:
        raise ScenarioError(issues)
    return node


def _convert(raw: yaml.Node, line: int, source: str, issues: list[Issue], constructor: SafeConstructor,
             depth: int) -> Node:
    if depth > MAX_DEPTH:
        issues.append(Issue(source, line, "the document nests too deeply (a recursive alias?)",
                            "write the values out instead of aliasing"))
        return Node(None, line, "null")
    if isinstance(raw, yaml.MappingNode):
        out: dict[str, Node] = {}
        for key_node, value_node in raw.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == YAML_TAG + "merge":
                issues.append(Issue(source, key_line, "merge keys (`<<`) are not supported",
                                    "write the keys out"))
                continue
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == YAML_TAG + "str"):
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a collection"
                issues.append(Issue(source, key_line, f"key {shown!r} is not read as a string",
                                    f"quote it: \"{shown}\":"))
                continue
            key = key_node.value
            if key in out:
                issues.append(Issue(source, key_line, f"duplicate key {key!r} (first at line {out[key].line})",
                                    "keep one of them"))
                continue
            out[key] = _convert(value_node, key_line, source, issues, constructor, depth + 1)
        return Node(out, line, "map")
    if isinstance(raw, yaml.SequenceNode):
        items = [_convert(item, item.start_mark.line + 1, source, issues, constructor, depth + 1)
                 for item in raw.value]
        return Node(items, line, "seq")
    kind = raw.tag.removeprefix(YAML_TAG)
    if kind in ("str", "timestamp"):
        return Node(raw.value, line, kind)
    if kind in ("int", "float", "bool", "null"):
        try:
            return Node(constructor.construct_object(raw), line, kind)
        except (ConstructorError, ValueError):
            pass
    issues.append(Issue(source, line, f"unsupported YAML tag {raw.tag!r}", "remove the tag"))
    return Node(None, line, "null")


def from_python(value: Any, line: int = 0) -> Node:
    """A Node tree for a value built in Python (the fluent builder): no lines, the same checks."""
    if isinstance(value, dict):
        return Node({str(k): from_python(v, line) for k, v in value.items()}, line, "map")
    if isinstance(value, list | tuple):
        return Node([from_python(v, line) for v in value], line, "seq")
    if isinstance(value, bool):
        return Node(value, line, "bool")
    if isinstance(value, int):
        return Node(value, line, "int")
    if isinstance(value, float):
        return Node(value, line, "float")
    if value is None:
        return Node(None, line, "null")
    if isinstance(value, datetime | date):
        return Node(value.isoformat(), line, "timestamp")
    return Node(str(value), line, "str")
