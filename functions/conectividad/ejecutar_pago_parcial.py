"""POST /v1/integracion-conectividad/ejecutar-pago-parcial (only a parcial convenio)"""

from conectividad.pago_endpoint import build
from recaudo.models.ledger import TipoConvenio

app, handler = build(TipoConvenio.PARCIAL)
