"""The domain's next steps as commands a person can type."""

from __future__ import annotations

from collections.abc import Sequence

from commhub.actions import Action, NextStep

# Each action's command, and how a line of the CLI says it ({label} is the domain's words).
_COMMANDS = {
    Action.LIST_EDITIONS: ("commhub editions list", "`{command}` lists them"),
    Action.SHOW_EDITION: ("commhub editions show {edition_id}", "see it with `{command}`"),
    Action.PREVIEW: ("commhub editions preview {series}", "preview it with `{command}`"),
    Action.APPROVE: ("commhub editions approve {edition_id}", "approve it with `{command}`"),
    Action.PAUSE: ("commhub editions pause {edition_id}", "pause it with `{command}`"),
    Action.CANCEL: ("commhub editions cancel {edition_id}", "cancel it with `{command}`"),
    Action.RELEASE: ("commhub editions release {edition_id}", "go on with `{command}`"),
    Action.RESUME: ("commhub editions resume {edition_id}", "finish it with `{command}`"),
    Action.RESEND_UNKNOWN: (
        "commhub editions resend-unknown {edition_id}",
        "once you know they did not arrive, resend them with `{command}`",
    ),
    Action.SETTLE_POSTS: (
        "commhub posts list --edition {edition_id}",
        "see them with `{command}`, then `commhub posts settle ID --posted` (it is live) or "
        "`--again`",
    ),
    Action.SEND_AGAIN: ("commhub editions send {series} --now --again", "add --again to mean it"),
    Action.APPLY_SERIES: ("commhub series apply FILE", "add or fix it with `{command}`"),
    Action.LIST_CALENDAR_FEEDS: ("commhub calendar links", "`{command}` lists them"),
    Action.INIT: ("commhub init", "run `{command}`"),
}


def command_line(step: NextStep) -> str:
    """The command that takes a step: "commhub editions approve 12"."""
    command, _ = _COMMANDS[step.action]
    return command.format(edition_id=step.edition_id, series=step.series)


def say(step: NextStep) -> str:
    """A step as a line of the CLI says it: "approve it with `commhub editions approve 12`"."""
    _, phrase = _COMMANDS[step.action]
    return phrase.format(command=command_line(step), label=step.label)


def with_next_steps(text: str, steps: Sequence[NextStep]) -> str:
    """text, then what to do next: "edition 12 is held: approve it with `...`"."""
    if not steps:
        return text
    return f"{text}: " + "; ".join(say(step) for step in steps)
