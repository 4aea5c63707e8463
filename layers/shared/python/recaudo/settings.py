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
    # defer_build: a function validates its own settings class; the others are never built
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class LedgerSettings(_Env):
    ledger_table: str = Field(alias="LEDGER_TABLE", min_length=3, max_length=255)
    time_zone: str = Field(alias="TIME_ZONE", default="America/Costa_Rica")
    # DynamoDB Query Limit per round trip; the repository always follows LastEvaluatedKey.
    query_page_limit: int = Field(alias="QUERY_PAGE_LIMIT", default=250, ge=1, le=1000)


class FlowSettings(LedgerSettings):
    """The payment state machine's tasks."""

    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)


class SweepSettings(FlowSettings):
    """The sweeper of payments left APLICADO."""

    # Longer than the state machine's 60 s limit: no execution can still be working on the payment.
    sweep_after_seconds: int = Field(alias="PAYMENT_SWEEP_AFTER_SECONDS", default=120, ge=90)
    sweep_limit: int = Field(alias="PAYMENT_SWEEP_LIMIT", default=100, ge=1, le=1000)


class PaymentSettings(FlowSettings):
    """The payment, reversal, history and verification endpoints."""

    credentials_table: str = Field(alias="CREDENTIALS_TABLE", min_length=3, max_length=255)
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=3, max_length=255)
    state_machine_arn: str = Field(alias="PAYMENT_STATE_MACHINE_ARN", default="", pattern=r"^(arn:aws:states:.*)?$")
    # At least 24 h, as the banks were promised.
    idempotency_seconds: int = Field(alias="IDEMPOTENCY_SECONDS", default=36 * 3600, ge=24 * 3600)
    # How long ejecutar-pago waits for the flow before answering "en proceso" (its function's
    # timeout leaves room for the reads before and after; docs/decisions.md).
    payment_wait_seconds: float = Field(alias="PAYMENT_WAIT_SECONDS", default=18, gt=0, le=25)


@cache
def load(model: type[_S]) -> _S:
    """Validate the environment against ``model`` once; a bad environment fails the cold start."""
    return model.model_validate(dict(os.environ))


class CobranzasSettings(LedgerSettings):
    """The cobranzas endpoints and the S3 import: integrators' hashes and the files' bucket."""

    credentials_table: str = Field(alias="CREDENTIALS_TABLE", min_length=3, max_length=255)
    bucket: str = Field(alias="COBRANZAS_BUCKET", min_length=3, max_length=63)
    # What an HTTP upload may carry: API Gateway takes 10 MB, but Lambda's 6 MB request limit applies to
    # the base64 event, so ~4 MB of file. Larger files go through an upload URL (S3).
    max_http_bytes: int = Field(alias="MAX_HTTP_BYTES", default=4 * 1024 * 1024, ge=1024)
    upload_url_seconds: int = Field(alias="UPLOAD_URL_SECONDS", default=900, ge=60, le=3600)
    # An S3 import's claim outlives the function timeout, so a crashed run can be retaken.
    claim_seconds: int = Field(alias="IMPORT_CLAIM_SECONDS", default=1200, ge=60)
    # The HTTP import stops reading rows after this many seconds (API Gateway answers at 29 s), and
    # sends its transactions from this many threads.
    http_import_budget_seconds: float = Field(alias="HTTP_IMPORT_BUDGET_SECONDS", default=20.0, gt=0, le=27)
    import_writers: int = Field(alias="IMPORT_WRITERS", default=16, ge=1, le=64)


class RecargasSettings(_Env):
    """CPS recargas: channels' keys, nonces, operations, the carrier and the top-up state machine."""

    ledger_table: str = Field(alias="LEDGER_TABLE", min_length=3, max_length=255)
    credentials_table: str = Field(alias="CREDENTIALS_TABLE", min_length=3, max_length=255)
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=3, max_length=255)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    key_id: str = Field(alias="RECARGAS_KEY_ID", min_length=1)
    state_machine_arn: str = Field(alias="RECARGAS_STATE_MACHINE_ARN", default="", pattern=r"^(arn:aws:states:.*)?$")
    carrier_url: str = Field(alias="CARRIER_URL", pattern=r"^https?://")
    carrier_token: str = Field(alias="CARRIER_TOKEN", min_length=8, repr=False)
    carrier_read_timeout: float = Field(alias="CARRIER_READ_TIMEOUT_SECONDS", default=6.0, gt=0, le=25)
    carrier_validity_seconds: int = Field(alias="CARRIER_VALIDITY_SECONDS", default=60, ge=10, le=600)
    nonce_window_seconds: int = Field(alias="NONCE_WINDOW_SECONDS", default=300, ge=10, le=3600)
    wait_seconds: float = Field(alias="RECARGAS_WAIT_SECONDS", default=12.0, ge=0, le=25)
    # Stripe keeps Idempotency-Keys 24 h; so do we, at least.
    idempotency_seconds: int = Field(alias="IDEMPOTENCY_SECONDS", default=24 * 3600, ge=24 * 3600)


class RadianSettings(_Env):
    """RADIAN: the tracked invoices, afacturar (per environment), the polling run and its policy."""

    table: str = Field(alias="RADIAN_TABLE", min_length=3, max_length=255)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    state_machine_arn: str = Field(alias="RADIAN_STATE_MACHINE_ARN", default="", pattern=r"^(arn:aws:states:.*)?$")
    # afacturar: pruebas, habilitación or producción, chosen per deployment (CDK context "afacturarUrl")
    afacturar_url: str = Field(alias="AFACTURAR_URL", pattern=r"^https?://")
    afacturar_entorno: str | None = Field(alias="AFACTURAR_ENTORNO", default=None, max_length=64)
    # the Bearer token lives in Secrets Manager, never in the environment
    afacturar_secret_id: str = Field(alias="AFACTURAR_SECRET_ID", default="", max_length=2048)
    # afacturar's own limit is 60 s ("la operación duró más de 60 s"): wait longer than that
    afacturar_read_timeout: float = Field(alias="AFACTURAR_READ_TIMEOUT_SECONDS", default=75.0, gt=60, le=600)
    shards: int = Field(alias="RADIAN_SHARDS", default=16, ge=1, le=999)
    batch_size: int = Field(alias="RADIAN_BATCH_SIZE", default=100, ge=1, le=1000)
    max_batches: int = Field(alias="RADIAN_MAX_BATCHES", default=400, ge=1, le=600)
    # per poller: concurrent calls, and calls per second (afacturar's limit is unknown: configurable)
    concurrency: int = Field(alias="RADIAN_CONCURRENCY", default=16, ge=1, le=256)
    rate_per_second: float = Field(alias="RADIAN_RATE_PER_SECOND", default=10.0, gt=0, le=1000)
    # the adaptive policy (docs/decisions.md, "RADIAN: polling")
    active_minutes: int = Field(alias="RADIAN_ACTIVE_MINUTES", default=60, ge=1)
    normal_minutes: int = Field(alias="RADIAN_NORMAL_MINUTES", default=360, ge=1)
    slow_minutes: int = Field(alias="RADIAN_SLOW_MINUTES", default=1440, ge=1)
    max_age_days: int = Field(alias="RADIAN_MAX_AGE_DAYS", default=180, ge=1)
    retry_base_minutes: int = Field(alias="RADIAN_RETRY_BASE_MINUTES", default=5, ge=1)
    retry_max_minutes: int = Field(alias="RADIAN_RETRY_MAX_MINUTES", default=360, ge=1)


class CuotasSettings(_Env):
    """Sistema UNO paymentDue: its table."""

    cuotas_table: str = Field(alias="CUOTAS_TABLE", min_length=3, max_length=255)
