"""POST /v1/integracion-conectividad/ejecutar-pago-vencido (only a vencido convenio)"""

from conectividad.pago_endpoint import build
from recaudo.models.ledger import TipoConvenio  # noqa: F401

app, handler = build(TipoConvenio.VENCIDO)
