"""exportar/csv and descargar/csv share their routes' parameters (GET: query string; POST: form)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from cobranzas import servicio
from cobranzas.params import Filtro, HashForm, HashQuery, first
from recaudo.rest import TEXT_CSV, text_response, text_responses

BOM = "\ufeff"


def register(app: APIGatewayRestResolver, path: str, summary: str, attachment: bool) -> None:
    def reply(hash_: str | None, periodo: str | None, **otros: str | None) -> Response:
        integrador, filtros, body = servicio.exportar(hash_, periodo, **otros)
        if not attachment:
            return text_response(body, content_type=TEXT_CSV)
        # A file for spreadsheets: the BOM makes them read UTF-8 (the import accepts it back).
        name = servicio.nombre_descarga(integrador, filtros)
        return text_response(
            BOM + body, content_type=TEXT_CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    responses = text_responses("CSV: columnas de importación + Estado (EMI/ACP/RCH) + MotivoRechazo", "text/csv")

    @app.get(path, tags=["Cobranzas"], summary=summary, responses=responses)
    def get(
        hash_query: HashQuery = None,
        periodo: Filtro.PeriodoQ = None,
        id_cliente: Filtro.ClienteQ = None,
        id_concepto: Filtro.ConceptoQ = None,
        opcional1: Filtro.Opcional1Q = None,
        opcional2: Filtro.Opcional2Q = None,
    ):
        return reply(
            hash_query,
            periodo,
            id_cliente=id_cliente,
            id_concepto=id_concepto,
            opcional1=opcional1,
            opcional2=opcional2,
        )

    @app.post(path, tags=["Cobranzas"], summary=summary, responses=responses)
    def post(
        hash_form: HashForm = None,
        periodo_f: Filtro.PeriodoF = None,
        id_cliente_f: Filtro.ClienteF = None,
        id_concepto_f: Filtro.ConceptoF = None,
        opcional1_f: Filtro.Opcional1F = None,
        opcional2_f: Filtro.Opcional2F = None,
        hash_query: HashQuery = None,
        periodo: Filtro.PeriodoQ = None,
        id_cliente: Filtro.ClienteQ = None,
        id_concepto: Filtro.ConceptoQ = None,
        opcional1: Filtro.Opcional1Q = None,
        opcional2: Filtro.Opcional2Q = None,
    ):
        return reply(
            first(hash_form, hash_query),
            first(periodo_f, periodo),
            id_cliente=first(id_cliente_f, id_cliente),
            id_concepto=first(id_concepto_f, id_concepto),
            opcional1=first(opcional1_f, opcional1),
            opcional2=first(opcional2_f, opcional2),
        )
