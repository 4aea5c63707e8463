"""GET /v1/integracion-conectividad/saldos-persona-resumen (by year and rubro, paged)"""

from conectividad import params, queries
from recaudo.models.conectividad import SaldosResumenPage
from recaudo.observability import lambda_handler
from recaudo.rest import conectividad_resolver, json_response, ok_responses

app = conectividad_resolver()


@app.get(
    "/v1/integracion-conectividad/saldos-persona-resumen",
    tags=["Conectividad"],
    responses=ok_responses(SaldosResumenPage, "Saldos resumidos por año y rubro"),
)
def saldos_persona_resumen(
    codigoConvenio: params.CodigoConvenio,
    identificacion: params.Identificacion,
    numeroPagina: params.NumeroPagina,
    longitudPagina: params.LongitudPagina,
    fechaLimite: params.FechaLimite = None,
):
    page = queries.saldos_resumen(
        identificacion, codigoConvenio, numeroPagina, longitudPagina, params.fecha_limite(fechaLimite)
    )
    return json_response(page)


handler = lambda_handler(app.resolve)
