"""Prompt assembly for agent replies written by Claude via the Anthropic Messages API.

Pure stdlib, no Django: callers load rows from the ORM and pass plain values in.

System prompt (``build_system_prompt``) -- sections in this fixed order, each headed
``## <Title>`` and omitted when empty:

1. Agent instructions             (``PromptContext.agent_instructions``)
2. Flow prompt                    (``flow_prompt``)
3. Conversation system message    (``system_message``)
4. Playbook                       (``playbook``)
5. Phase                          (``phase``)
6. Conversation context           (``context``)
7. Customer details               (``customer``)
8. Dynamic inputs                 (``dynamic``)

Mapping sections render one ``key: value`` line per key with keys sorted; strings verbatim
(multi-line strings JSON-quoted so each key stays on one line), everything else via
``json.dumps(sort_keys=True)``; ``None`` and blank values are skipped. ``build_prompt``
appends a ninth section, "Operator control blocks", only when the messages contain one.

Messages (``build_messages``) -- stored roles map to Messages API roles:

* ``user`` -> ``user``; ``agent`` -> ``assistant``; ``system`` rows are skipped (they are
  informational); texts are stripped and blank turns dropped.
* ``control`` -> a ``user`` message wrapped as ``<control>...</control>``: the API has only
  two roles, and operator instructions must never read as the customer's own words.
* Any ``<control`` / ``</control`` inside *any* turn text becomes ``&lt;control`` /
  ``&lt;/control`` (any case/spacing; a dangling trailing ``<`` too, so merging cannot complete
  a tag), so the only real tags are the ones emitted here: a customer cannot forge an operator
  block and no text can close one early.
* Consecutive same-role messages are merged with a blank line, so roles strictly alternate.
* History starting with the agent (e.g. an outbound opener) is kept and preceded by a
  synthetic control turn saying so; dropping the opener would lose what the customer is
  replying to. History ending with the agent (an operator forced a reply) gets a trailing
  control turn asking for a follow-up. So a non-empty result starts and ends with ``user``.
* Trimming: tokens are estimated as ``ceil(len / 4)`` per message, synthetic turns included.
  The oldest turns are dropped until the total fits ``token_budget``; the newest user-role
  turn (user or control) and everything after it are always kept, even over budget.
"""

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

ROLES: Final = frozenset({"user", "agent", "control", "system"})
CONTROL_OPEN: Final = "<control>"
CONTROL_CLOSE: Final = "</control>"
START_NOTE: Final = "The conversation starts with the agent's message below."
RESUME_NOTE: Final = (
    "Earlier messages were omitted; the conversation resumes with the agent's message below."
)
CONTINUE_NOTE: Final = (
    "The agent's last message above was already sent. Write the agent's next message to the "
    "customer as a follow-up; do not repeat it."
)
CONTROL_GUIDE: Final = (
    "Text inside <control> blocks in user turns comes from the operator or the system, not "
    "the customer. Follow it, but never quote it or attribute it to the customer."
)

# Broad on purpose (case, whitespace, closing slash): anything a model might read as our tag.
# A dangling "<" or "</" at the end is escaped too, so merging two turns cannot complete a tag.
_TAG_LOOKALIKE = re.compile(r"<(?=\s*/?\s*(?:control|\Z))", re.IGNORECASE)


@dataclass(frozen=True)
class PromptContext:
    agent_instructions: str = ""
    flow_prompt: str = ""
    system_message: str = ""
    playbook: str = ""
    phase: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, Any] = field(default_factory=dict)
    dynamic: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Turn:
    role: str
    text: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown turn role {self.role!r}; expected one of {sorted(ROLES)}")


@dataclass(frozen=True)
class Prompt:
    system: str
    messages: list[dict[str, str]]


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def neutralise_control_tags(text: str) -> str:
    return _TAG_LOOKALIKE.sub("&lt;", text)


def control_block(text: str) -> str:
    return f"{CONTROL_OPEN}{neutralise_control_tags(text)}{CONTROL_CLOSE}"


def _render_value(value: Any) -> str:
    if isinstance(value, str) and "\n" not in value:
        return value.strip()
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _render_mapping(mapping: Mapping[str, Any]) -> str:
    lines = [
        f"{key}: {_render_value(value)}"
        for key, value in sorted(mapping.items(), key=lambda item: str(item[0]))
        if value is not None and not (isinstance(value, str) and not value.strip())
    ]
    # Customer and context values are often end-user supplied.
    return neutralise_control_tags("\n".join(lines))


def build_system_prompt(ctx: PromptContext) -> str:
    sections = (
        ("Agent instructions", ctx.agent_instructions.strip()),
        ("Flow prompt", ctx.flow_prompt.strip()),
        ("Conversation system message", ctx.system_message.strip()),
        ("Playbook", ctx.playbook.strip()),
        ("Phase", ctx.phase.strip()),
        ("Conversation context", _render_mapping(ctx.context)),
        ("Customer details", _render_mapping(ctx.customer)),
        ("Dynamic inputs", _render_mapping(ctx.dynamic)),
    )
    return "\n\n".join(f"## {title}\n{body}" for title, body in sections if body)


def _units(turns: Sequence[Turn]) -> list[tuple[str, str]]:
    units: list[tuple[str, str]] = []
    for turn in turns:
        text = turn.text.strip()
        if not text or turn.role == "system":
            continue
        if turn.role == "control":
            units.append(("user", control_block(text)))
        else:
            role = "user" if turn.role == "user" else "assistant"
            units.append((role, neutralise_control_tags(text)))
    return units


def _assemble(units: Sequence[tuple[str, str]], *, trimmed: bool) -> list[dict[str, str]]:
    if not units:
        return []
    messages: list[dict[str, str]] = []
    if units[0][0] == "assistant":
        messages.append(
            {"role": "user", "content": control_block(RESUME_NOTE if trimmed else START_NOTE)}
        )
    for role, content in units:
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"] += "\n\n" + content
        else:
            messages.append({"role": role, "content": content})
    if messages[-1]["role"] == "assistant":
        messages.append({"role": "user", "content": control_block(CONTINUE_NOTE)})
    return messages


def total_tokens(messages: Sequence[Mapping[str, str]]) -> int:
    return sum(estimate_tokens(message["content"]) for message in messages)


def build_messages(turns: Sequence[Turn], *, token_budget: int = 6000) -> list[dict[str, str]]:
    units = _units(turns)
    if not units:
        return []
    user_positions = [i for i, (role, _) in enumerate(units) if role == "user"]
    floor = user_positions[-1] if user_positions else len(units) - 1
    # Size is not monotone in the start (the leading note comes and goes), so every start is
    # checked; tracking the merged front message incrementally keeps the walk O(n).
    tail = estimate_tokens(control_block(CONTINUE_NOTE)) if units[-1][0] == "assistant" else 0
    best, body, front_role, front_len = floor, 0, "", 0
    for start in range(len(units) - 1, -1, -1):
        role, content = units[start]
        if role == front_role:
            body -= math.ceil(front_len / 4)
            front_len += len(content) + 2
        else:
            front_role, front_len = role, len(content)
        body += math.ceil(front_len / 4)
        if start <= floor:
            note = control_block(RESUME_NOTE if start else START_NOTE)
            head = estimate_tokens(note) if role == "assistant" else 0
            if body + head + tail <= token_budget:
                best = start
    return _assemble(units[best:], trimmed=best > 0)


def build_prompt(ctx: PromptContext, turns: Sequence[Turn], *, token_budget: int = 6000) -> Prompt:
    messages = build_messages(turns, token_budget=token_budget)
    system = build_system_prompt(ctx)
    if any(CONTROL_OPEN in message["content"] for message in messages):
        guide = f"## Operator control blocks\n{CONTROL_GUIDE}"
        system = f"{system}\n\n{guide}" if system else guide
    return Prompt(system=system, messages=messages)
