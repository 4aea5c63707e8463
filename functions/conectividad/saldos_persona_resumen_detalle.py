"""GET /v1/integracion-conectividad/saldos-persona-resumen-detalle (optionally one rubro and year, paged)"""

from conectividad import params, queries
from recaudo.models.conectividad import SaldosDetallePage
from recaudo.observability import lambda_handler
from recaudo.rest import conectividad_resolver, json_response, ok_responses

app = conectividad_resolver()


@app.get(
    "/v1/integracion-conectividad/saldos-persona-resumen-detalle",
    tags=["Conectividad"],
    responses=ok_responses(SaldosDetallePage, "Saldos en detalle"),
)
def saldos_persona_resumen_detalle(
    codigoConvenio: params.CodigoConvenio,
    identificacion: params.Identificacion,
    numeroPagina: params.NumeroPagina,
    longitudPagina: params.LongitudPagina,
    idRubro: params.IdRubro = None,
    year: params.Year = None,
    fechaLimite: params.FechaLimite = None,
):
    page = queries.saldos_resumen_detalle(
        identificacion, codigoConvenio, idRubro, year, numeroPagina, longitudPagina, params.fecha_limite(fechaLimite)
    )
    return json_response(page)


handler = lambda_handler(app.resolve)
