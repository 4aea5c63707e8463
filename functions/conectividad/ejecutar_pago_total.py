"""POST /v1/integracion-conectividad/ejecutar-pago-total (only a total convenio)"""

from conectividad.pago_endpoint import build
from recaudo.models.ledger import TipoConvenio  # noqa: F401

app, handler = build(TipoConvenio.TOTAL)
