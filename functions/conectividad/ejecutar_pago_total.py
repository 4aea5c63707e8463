"""POST /v1/integracion-conectividad/ejecutar-pago-total (only a total convenio)"""

from conectividad.pago_endpoint import build
from recaudo.models.ledger import TipoConvenio

app, handler = build(TipoConvenio.TOTAL)
