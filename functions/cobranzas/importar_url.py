"""POST /api2/cobranzas/importar/url: a presigned PUT for files larger than the HTTP endpoint takes.
The file lands under the integrator's prefix and is imported by the S3 notification; its report
is ``<name>.resultado.txt`` next to it, also served by importar/reporte?importacion=<name>."""

from cobranzas import importacion
from cobranzas.params import BEARER_O_FORMULARIO, HashForm, hash_de
from recaudo.observability import lambda_handler
from recaudo.rest import cobranzas_resolver, text_response, text_responses

app = cobranzas_resolver()


@app.post(
    "/cobranzas/importar/url",
    tags=["Cobranzas"],
    summary="URL de carga (PUT) para archivos grandes",
    responses=text_responses("OK: <url de carga, válida 15 minutos>"),
    security=BEARER_O_FORMULARIO,
)
def importar_url(hash_form: HashForm = None):
    url, nombre = importacion.url_de_carga(hash_de(app, hash_form))
    return text_response(f"OK: {url}", headers={"X-Recaudo-Importacion": nombre})


handler = lambda_handler(app.resolve)
