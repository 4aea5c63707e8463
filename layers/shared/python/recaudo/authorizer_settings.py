"""The TOKEN authorizer's settings: the same contract as ``recaudo.settings``, without pydantic.

The authorizer stands in front of every API, so its cold start adds to the first request of each caller
after a quiet spell, on top of the function's own. Importing pydantic alone costs about a third of
the boto3 baseline on Lambda's Python (``docs/benchmarks.md``), and these are two variables: they are
checked here by hand, with the constraints ``recaudo.settings`` would give them. As there: validated
once per container (``load``), a bad environment fails the cold start naming every problem, and logic
never reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

# the API whose tokens the authorizer accepts: banks (conectividad), RADIAN tenants or UNO businesses
SCOPES = ("conectividad", "radian", "uno")


class SettingsError(ValueError):
    """The environment does not satisfy the settings; the message names each variable at fault."""


@dataclass(frozen=True)
class CredentialsSettings:
    credentials_table: str
    token_scope: str = "conectividad"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CredentialsSettings:
        problems = []
        table = env.get("CREDENTIALS_TABLE")
        if table is None:
            problems.append("CREDENTIALS_TABLE: required")
        elif not 3 <= len(table) <= 255:
            problems.append(f"CREDENTIALS_TABLE: 3 to 255 characters, got {len(table)}")
        scope = env.get("TOKEN_SCOPE", "conectividad")
        if scope not in SCOPES:
            problems.append(f"TOKEN_SCOPE: one of {', '.join(SCOPES)}, got {scope[:40]!r}")
        if problems:
            raise SettingsError("; ".join(problems))
        return cls(credentials_table=str(table), token_scope=scope)


@cache
def load() -> CredentialsSettings:
    """Validate the environment once; a bad environment fails the cold start."""
    return CredentialsSettings.from_env(os.environ)
