"""exportar/csv and descargar/csv share their routes' parameters (GET: query string and the hash in
``Authorization: Bearer``; POST: form, filters also from the query string); the logic is
``cobranzas.exportacion``."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from cobranzas import exportacion
from cobranzas.params import BEARER, BEARER_O_FORMULARIO, Filtro, HashForm, first, hash_de
from recaudo.rest import TEXT_CSV, text_response, text_responses

BOM = "\ufeff"


def register(app: APIGatewayRestResolver, path: str, summary: str, attachment: bool) -> None:
    def reply(
        hash_: str | None,
        periodo: str | None,
        id_cliente: str | None,
        id_concepto: str | None,
        opcional1: str | None,
        opcional2: str | None,
    ) -> Response:
        # descargar/csv is a file for spreadsheets (formula triggers neutralised); exportar/csv gives exact values
        integrador, filtros, body = exportacion.exportar(
            hash_, periodo, id_cliente, id_concepto, opcional1, opcional2, planilla=attachment
        )
        if not attachment:
            return text_response(body, content_type=TEXT_CSV)
        # A file for spreadsheets: the BOM makes them read UTF-8 (the import accepts it back).
        name = exportacion.nombre_descarga(integrador, filtros)
        return text_response(
            BOM + body, content_type=TEXT_CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    responses = text_responses("CSV: columnas de importación + Estado (EMI/ACP/RCH) + MotivoRechazo", "text/csv")

    @app.get(path, tags=["Cobranzas"], summary=summary, responses=responses, security=BEARER)
    def get(
        periodo: Filtro.PeriodoQ = None,
        id_cliente: Filtro.ClienteQ = None,
        id_concepto: Filtro.ConceptoQ = None,
        opcional1: Filtro.Opcional1Q = None,
        opcional2: Filtro.Opcional2Q = None,
    ):
        return reply(
            hash_de(app),
            periodo,
            id_cliente=id_cliente,
            id_concepto=id_concepto,
            opcional1=opcional1,
            opcional2=opcional2,
        )

    @app.post(path, tags=["Cobranzas"], summary=summary, responses=responses, security=BEARER_O_FORMULARIO)
    def post(
        hash_form: HashForm = None,
        periodo_f: Filtro.PeriodoF = None,
        id_cliente_f: Filtro.ClienteF = None,
        id_concepto_f: Filtro.ConceptoF = None,
        opcional1_f: Filtro.Opcional1F = None,
        opcional2_f: Filtro.Opcional2F = None,
        periodo: Filtro.PeriodoQ = None,
        id_cliente: Filtro.ClienteQ = None,
        id_concepto: Filtro.ConceptoQ = None,
        opcional1: Filtro.Opcional1Q = None,
        opcional2: Filtro.Opcional2Q = None,
    ):
        return reply(
            hash_de(app, hash_form),
            first(periodo_f, periodo),
            id_cliente=first(id_cliente_f, id_cliente),
            id_concepto=first(id_concepto_f, id_concepto),
            opcional1=first(opcional1_f, opcional1),
            opcional2=first(opcional2_f, opcional2),
        )
