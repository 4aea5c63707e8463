"""GET|POST /api2/cobranzas/importar/reporte: an import's report (the OK/ERROR line, then one line
per failed row) by the id an HTTP import returned or the name of an S3-dropped file."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Form, Query

from cobranzas.importacion import obtener_reporte
from cobranzas.params import BEARER, BEARER_O_FORMULARIO, HashForm, first, hash_de
from recaudo.observability import lambda_handler
from recaudo.rest import cobranzas_resolver, text_response, text_responses

app = cobranzas_resolver()
DESC = "id devuelto en X-Recaudo-Importacion, o nombre del archivo dejado en S3"
responses = text_responses("El reporte: la línea OK/ERROR y una línea por fila fallida")
SUMMARY = "Reporte de una importación"


@app.get("/cobranzas/importar/reporte", tags=["Cobranzas"], summary=SUMMARY, responses=responses, security=BEARER)
def get(importacion: Annotated[str | None, Query(description=DESC, max_length=200)] = None):
    return text_response(obtener_reporte(hash_de(app), importacion))


@app.post(
    "/cobranzas/importar/reporte",
    tags=["Cobranzas"],
    summary=SUMMARY,
    responses=responses,
    security=BEARER_O_FORMULARIO,
)
def post(
    hash_form: HashForm = None,
    importacion_f: Annotated[str | None, Form(alias="importacion", description=DESC, max_length=200)] = None,
    importacion: Annotated[str | None, Query(description=DESC, max_length=200)] = None,
):
    return text_response(obtener_reporte(hash_de(app, hash_form), first(importacion_f, importacion)))


handler = lambda_handler(app.resolve)
