"""Environment variables modelled with pydantic and validated once per container.

Logic never reads ``os.environ``: handlers call ``load(SomeSettings)`` at import time and pass
values down.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

_S = TypeVar("_S", bound=BaseModel)


class _Env(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class LedgerSettings(_Env):
    ledger_table: str = Field(alias="LEDGER_TABLE", min_length=3, max_length=255)
    time_zone: str = Field(alias="TIME_ZONE", default="America/Costa_Rica")
    # DynamoDB Query Limit per round trip; the repository always follows LastEvaluatedKey.
    query_page_limit: int = Field(alias="QUERY_PAGE_LIMIT", default=250, ge=1, le=1000)


class CredentialsSettings(_Env):
    credentials_table: str = Field(alias="CREDENTIALS_TABLE", min_length=3, max_length=255)


@cache
def load(model: type[_S]) -> _S:
    """Validate the environment against ``model`` once; a bad environment fails the cold start."""
    return model.model_validate(dict(os.environ))
