"""POST /api2/cobranzas/importar/csv: a multipart form with ``hash`` and ``file``; the reply is
``OK: <YYYYMM> - <N> registros importados[ - <M> registros fallidos]`` or ``ERROR: ...``."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import File, UploadFile

from cobranzas import importacion
from cobranzas.params import HashForm, HashQuery, first
from recaudo.observability import lambda_handler
from recaudo.rest import cobranzas_resolver, text_response, text_responses

app = cobranzas_resolver()


@app.post(
    "/cobranzas/importar/csv",
    tags=["Cobranzas"],
    summary="Importar cobranzas del periodo en curso desde un CSV",
    responses=text_responses("OK: <periodo> - <N> registros importados [- <M> registros fallidos]"),
)
def importar_csv(
    hash_form: HashForm = None,
    file: Annotated[UploadFile | None, File(description="CSV sin encabezado, ';', 8 o 10 campos")] = None,
    hash_query: HashQuery = None,
):
    line, id_importacion = importacion.importar_http(
        first(hash_form, hash_query), file.content if file is not None else None
    )
    # The reply line is exactly the document's; the report of failed rows is fetched by this id.
    return text_response(line, headers={"X-Recaudo-Importacion": id_importacion})


handler = lambda_handler(app.resolve)
