"""Who is calling and which period is theirs: every cobranzas endpoint starts here."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from cobranzas.deps import CobranzasDeps
from recaudo.dates import end_of_month
from recaudo.errors import CobranzasError
from recaudo.models.cobranzas import Integrador, Periodo

FALTA_HASH = "falta el hash (campo hash del formulario, o Authorization: Bearer <hash>)"


def autenticar(hash_: str | None, deps: CobranzasDeps) -> Integrador:
    """The integrator the request's hash belongs to (the form's ``hash`` field or ``Authorization:
    Bearer``); 401 without one or with a wrong, revoked or expired one."""
    if not hash_:
        raise CobranzasError(FALTA_HASH, 401)
    integrador = deps.integradores.autenticar(hash_)
    if integrador is None:
        raise CobranzasError("hash inválido", 401)
    return integrador


def periodo_en_curso(integrador: Integrador, deps: CobranzasDeps) -> Periodo:
    """``YYYYMM`` of now in the integrator's time zone; its cut-off is the month's last day."""
    today = deps.clock().astimezone(ZoneInfo(integrador.zona_horaria)).date()
    return Periodo(f"{today.year:04d}{today.month:02d}", end_of_month(today))
