"""POST /v1/integracion-conectividad/ejecutar-pago-vencido (only a vencido convenio)"""

from conectividad.pago_endpoint import build
from recaudo.models.ledger import TipoConvenio

app, handler = build(TipoConvenio.VENCIDO)
