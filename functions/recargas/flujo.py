"""The top-up state machine's tasks: one Lambda each (``recargas.flujo.<task>``).

Each gets the execution state ``{"id": <operation>, …}`` and answers what the next Choice reads.
The carrier's outcome is data, never an exception: only AWS faults raise (and are retried by the
state machine). The top-up POST goes out at most once per operation: ``enviar`` claims the right
to send with a conditional write first, so a retried or duplicated task resolves by the status
query instead of sending again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from recargas.deps import FlujoDeps, default_flujo_deps
from recaudo.emf import MetricUnit
from recaudo.models.recargas import CATALOGO, EstadoRecarga, RespuestaOperador, ResultadoOperador
from recaudo.observability import lambda_handler, logger, metrics

# After its expiry a request the carrier has not seen never will be applied (docs/carrier-api.md).
MARGEN_EXPIRACION = timedelta(seconds=30)
MAX_CONSULTAS = 12
MAX_ESPERA_SEGUNDOS = 60


def _resultado(r: RespuestaOperador, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"resultado": r.resultado.value, **extra}
    if r.motivo:
        out["motivo"] = r.motivo
    if r.autorizacion:
        out["autorizacion"] = r.autorizacion
    return out


def enviar(state: dict[str, Any], deps: FlujoDeps | None = None) -> dict[str, Any]:
    deps = deps or default_flujo_deps()
    recarga = deps.recargas.get(state["id"])
    if recarga is None:
        raise LookupError(f"operation {state['id']} is not registered")
    if recarga.estado.final:
        return {"resultado": "FINAL"}
    now = deps.clock()
    if now > recarga.expira:  # never sent in time: nothing can have been applied
        return {"resultado": ResultadoOperador.EXPIRADA.value, "motivo": "la recarga venció antes de enviarse"}
    if not deps.recargas.mark_sent(recarga.id, now):
        # sent already (this task retried after the POST): its outcome is the carrier's to tell
        logger.warning("top-up already sent; resolving by status", extra={"operacion": recarga.id})
        return {"resultado": ResultadoOperador.SIN_RESPUESTA.value, "motivo": "reintento: se consulta el estado"}
    servicio = CATALOGO[recarga.servicio]
    respuesta = deps.operador.recargar(recarga.id, servicio.producto, recarga.numero, recarga.monto, recarga.expira)
    metrics.add_metric(name=f"Operador{respuesta.resultado.value.title()}", unit=MetricUnit.Count, value=1)
    return _resultado(respuesta)


def consultar(state: dict[str, Any], deps: FlujoDeps | None = None) -> dict[str, Any]:
    """The carrier's word on our reference; the next wait doubles (1, 2, 4 … 60 s)."""
    deps = deps or default_flujo_deps()
    intento = int((state.get("consulta") or {}).get("intento", 0)) + 1
    espera = min(2**intento, MAX_ESPERA_SEGUNDOS)
    recarga = deps.recargas.get(state["id"])
    assert recarga is not None
    respuesta = deps.operador.estado(recarga.id)
    if respuesta.resultado is ResultadoOperador.DESCONOCIDA and deps.clock() > recarga.expira + MARGEN_EXPIRACION:
        respuesta = RespuestaOperador(ResultadoOperador.EXPIRADA, "el operador nunca recibió la recarga; no se aplicó")
    agotado = intento >= MAX_CONSULTAS
    return _resultado(respuesta, intento=intento, espera=espera, agotado=agotado)


def _publicar(recarga_id: str, deps: FlujoDeps) -> None:
    """The event of the operation's final state as stored (a late or repeated task never announces a
    state the operation is not in). At least once: consumers dedupe on idOperacion."""
    recarga = deps.recargas.get(recarga_id)
    assert recarga is not None and recarga.estado.final, recarga_id
    detail: dict[str, Any] = {
        "idOperacion": recarga.id,
        "canal": recarga.canal,
        "idTypeService": recarga.servicio,
        "numberService": recarga.numero,
        "amount": recarga.monto,
    }
    if recarga.estado is EstadoRecarga.CONFIRMADA:
        deps.eventos.publish("TopUpConfirmed", detail | {"autorizacion": recarga.autorizacion})
    else:
        deps.eventos.publish("TopUpFailed", detail | {"motivo": recarga.motivo})


def confirmar(state: dict[str, Any], deps: FlujoDeps | None = None) -> dict[str, Any]:
    deps = deps or default_flujo_deps()
    resultado = state.get("consulta") or state["envio"]
    changed = deps.recargas.confirm(state["id"], resultado.get("autorizacion"), deps.clock())
    _publicar(state["id"], deps)
    return {"confirmada": changed}


def fallar(state: dict[str, Any], deps: FlujoDeps | None = None) -> dict[str, Any]:
    deps = deps or default_flujo_deps()
    resultado = state.get("consulta") or state["envio"]
    motivo = str(resultado.get("motivo") or "rechazada por el operador")
    changed = deps.recargas.fail(state["id"], motivo, deps.clock())
    _publicar(state["id"], deps)
    return {"fallida": changed}


def verificar(state: dict[str, Any], deps: FlujoDeps | None = None) -> dict[str, Any]:
    """Read the carrier's record back: a confirmed top-up it does not show as applied is flagged."""
    deps = deps or default_flujo_deps()
    respuesta = deps.operador.estado(state["id"])
    ok = respuesta.resultado is ResultadoOperador.APLICADA
    deps.recargas.mark_verified(state["id"], ok, deps.clock())
    if not ok:
        metrics.add_metric(name="RecargaDiscrepancia", unit=MetricUnit.Count, value=1)
        logger.error(
            "confirmed top-up not applied per the carrier",
            extra={"operacion": state["id"], "operador": respuesta.resultado.value},
        )
    return {"verificada": ok}


# Lambda entry points (one function each)
enviar_handler = lambda_handler(lambda event, context: enviar(event), correlation_id_path="id")
consultar_handler = lambda_handler(lambda event, context: consultar(event), correlation_id_path="id")
confirmar_handler = lambda_handler(lambda event, context: confirmar(event), correlation_id_path="id")
fallar_handler = lambda_handler(lambda event, context: fallar(event), correlation_id_path="id")
verificar_handler = lambda_handler(lambda event, context: verificar(event), correlation_id_path="id")
