"""The tracking API's rules: register, read, list, stop tracking, and "poll now". A tenant only ever
names its own invoices: every key starts with the tenant the authorizer vouched for."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from radian.deps import PREFIJO_AHORA, SeguimientoDeps, default_seguimiento_deps
from recaudo.models.radian import (
    EliminadaReply,
    Evento,
    EventoReply,
    Factura,
    FacturaNoEncontrada,
    FacturaReply,
    Insignia,
    ListaReply,
    Metadatos,
    Registrada,
    RegistroReply,
    RegistroRequest,
    SeguimientoReply,
    SolicitudInvalida,
    SondeoReply,
    insignia_de,
    normalizar_cufe,
    ordenados,
)

BASE = "/radian/v1/facturas"


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _cufe(texto: str) -> str:
    cufe = normalizar_cufe(texto)
    if cufe is None:
        raise SolicitudInvalida("cufe: se esperan 96 caracteres hexadecimales (SHA-384)")
    return cufe


def registrar(tenant: str, req: RegistroRequest, deps: SeguimientoDeps | None = None) -> tuple[int, RegistroReply]:
    """Start tracking each CUFE (already normalised by the model). Registering again changes nothing
    and says so: a client may retry a request safely. 201 when at least one is new, else 200."""
    deps = deps or default_seguimiento_deps()
    ahora = deps.clock()
    vistos: dict[str, Registrada] = {}
    for nueva in req.facturas:
        if nueva.cufe in vistos:
            continue
        factura = Factura(
            tenant=tenant,
            cufe=nueva.cufe,
            registrada=ahora,
            proximo_sondeo=ahora,  # polled by the next run
            metadatos=Metadatos(nueva.nitEmisor, nueva.numero, nueva.monto, nueva.vencimiento),
        )
        nuevo = deps.facturas.registrar(factura)
        vistos[nueva.cufe] = Registrada(cufe=nueva.cufe, resultado="REGISTRADA" if nuevo else "YA_REGISTRADA")
    status = 201 if any(r.resultado == "REGISTRADA" for r in vistos.values()) else 200
    return status, RegistroReply(facturas=list(vistos.values()))


def _resumen(f: Factura) -> dict[str, object]:
    m = f.metadatos
    return {
        "cufe": f.cufe,
        "insignias": [i.value for i in Insignia if i in f.insignias],  # in DIAN's order
        "registrada": _utc(f.registrada),
        "ultimoCambio": _utc(f.ultimo_cambio),
        "nitEmisor": m.nit_emisor,
        "numero": m.numero,
        "monto": m.monto,
        "vencimiento": m.vencimiento.isoformat() if m.vencimiento else None,
    }


def _evento(e: Evento) -> EventoReply:
    return EventoReply(
        numero=str(e.numero),
        codigo=e.codigo,
        descripcion=e.descripcion,
        fecha=e.fecha.strftime("%Y-%m-%d %H:%M:%S"),
        cude=e.cude,
    )


def consultar(tenant: str, cufe: str, deps: SeguimientoDeps | None = None) -> FacturaReply:
    deps = deps or default_seguimiento_deps()
    cufe = _cufe(cufe)
    factura = deps.facturas.get(tenant, cufe)
    if factura is None:
        raise FacturaNoEncontrada(cufe)
    eventos = ordenados(deps.facturas.eventos(tenant, cufe))
    return FacturaReply.model_validate(
        _resumen(factura)
        | {
            "version": factura.version,
            "seguimiento": SeguimientoReply(
                activo=factura.proximo_sondeo is not None,
                proximoSondeo=_utc(factura.proximo_sondeo),
                ultimoSondeo=_utc(factura.ultimo_sondeo),
                ultimoResultado=factura.ultimo_resultado,
                ultimoError=factura.ultimo_error,
                fallos=factura.fallos,
                motivoFin=factura.motivo_fin,
            ),
            "eventos": [_evento(e) for e in eventos],
        }
    )


def listar(
    tenant: str, estado: str | None, limite: int, siguiente: str | None, deps: SeguimientoDeps | None = None
) -> ListaReply:
    deps = deps or default_seguimiento_deps()
    insignia = None
    if estado:
        insignia = insignia_de(estado)
        if insignia is None:
            raise SolicitudInvalida(
                "estado: una de Factura Electrónica, Título Valor, Disponibilizada, Endosada, Limitada, Pagada, "
                "Protestada, Transferida (o su código: TITULO_VALOR…)"
            )
    facturas, token = deps.facturas.listar(tenant, insignia, limite, siguiente)
    return ListaReply.model_validate({"facturas": [_resumen(f) for f in facturas], "siguiente": token})


def eliminar(tenant: str, cufe: str, deps: SeguimientoDeps | None = None) -> EliminadaReply:
    deps = deps or default_seguimiento_deps()
    cufe = _cufe(cufe)
    if not deps.facturas.eliminar(tenant, cufe):
        raise FacturaNoEncontrada(cufe)
    return EliminadaReply(cufe=cufe)


def sondear_ahora(tenant: str, cufe: str, deps: SeguimientoDeps | None = None) -> SondeoReply:
    """Poll one invoice now: a run of the polling state machine with just this invoice. An invoice
    whose polling had stopped (paid, or old) is polled once; it stays stopped unless that poll says
    otherwise. The caller reads the outcome with GET."""
    deps = deps or default_seguimiento_deps()
    cufe = _cufe(cufe)
    factura = deps.facturas.get(tenant, cufe)
    if factura is None:
        raise FacturaNoEncontrada(cufe)
    nombre = f"{PREFIJO_AHORA}{deps.clock():%Y%m%dT%H%M%S}-{secrets.token_hex(6)}"
    ejecucion = deps.flujo.start(nombre, {"lotes": [{"facturas": [{"tenant": tenant, "cufe": cufe}]}]})
    return SondeoReply(
        cufe=cufe, resultado="SONDEO_SOLICITADO", ejecucion=ejecucion.rsplit(":", 1)[-1], consultar=f"{BASE}/{cufe}"
    )
