"""POST /api2/cobranzas/importar/csv: a multipart form with ``hash`` and ``file``; the reply is
``OK: <YYYYMM> - <N> registros importados[ - <M> registros fallidos]`` or ``ERROR: ...``.

The form is read strictly (``recaudo.formats.formulario``): a body that is not one whole multipart
stream is refused, never imported; once its hash was read, the refusal is recorded as an import whose
report can be fetched (``importacion.rechazar_http``)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import File, UploadFile

from cobranzas import importacion
from cobranzas.params import BEARER_O_FORMULARIO, HashForm, hash_de
from recaudo.observability import lambda_handler
from recaudo.rest import cobranzas_resolver, text_response, text_responses

app = cobranzas_resolver(rechazar_formulario=importacion.rechazar_http)


@app.post(
    "/cobranzas/importar/csv",
    tags=["Cobranzas"],
    summary="Importar cobranzas del periodo en curso desde un CSV",
    responses=text_responses("OK: <periodo> - <N> registros importados [- <M> registros fallidos]"),
    security=BEARER_O_FORMULARIO,
)
def importar_csv(
    hash_form: HashForm = None,
    file: Annotated[
        UploadFile | None,
        File(
            description="CSV sin encabezado, ';', de 8 a 10 campos (una parte de archivo, o un campo con su contenido)"
        ),
    ] = None,
):
    line, id_importacion = importacion.importar_http(
        hash_de(app, hash_form), file.content if file is not None else None
    )
    # The reply line is exactly the document's; the report of failed rows is fetched by this id.
    return text_response(line, headers={"X-Recaudo-Importacion": id_importacion})


handler = lambda_handler(app.resolve)
