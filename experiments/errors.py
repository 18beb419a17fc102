"""Config errors as one clear line: the key, what is allowed, what was given."""

from __future__ import annotations

import re
from importlib import resources

GROUPS = ("market", "chain", "grid", "population", "runtime", "adversary", "experiment")


class ConfigError(Exception):
    """A configuration value that cannot run; the message names the full key."""


def group_options(group: str) -> list[str]:
    """Names of the shipped options of a config group (its YAML files)."""
    folder = resources.files("conf") / group
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def check_group_overrides(overrides: list[str]) -> None:
    """Reject ``group=option`` overrides that name an option that does not exist.

    Hydra would reject them too, but with a multi-line report; this names the
    allowed options on one line. Sweeps (``market=a,b``) check every value.
    """
    for override in overrides:
        match = re.fullmatch(r"([a-z_]+)=(.*)", override.strip())
        if not match or match.group(1) not in GROUPS:
            continue
        group, value = match.groups()
        if value in ("null", "") and group == "experiment":
            continue
        choices = [v.strip() for v in re.sub(r"^choice\((.*)\)$", r"\1", value).split(",")]
        allowed = group_options(group)
        for choice in choices:
            if choice not in allowed:
                raise ConfigError(
                    f"{group}={choice} is not a known option; allowed: {', '.join(allowed)}"
                )


def describe(error: BaseException) -> str:
    """One line for an exception raised while Hydra composes the config."""
    for cause in _chain(error):
        full_key = getattr(cause, "full_key", None)
        if full_key:
            first = str(cause).strip().splitlines()[0]
            return f"{full_key}: {first}"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    lines = [
        line for line in lines if not line.startswith(("Config search path", "provider=", "path="))
    ]
    return "; ".join(lines[:4]) if lines else type(error).__name__


def _chain(error: BaseException):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__
