"""POST /v1/integracion-conectividad/ejecutar-pago-parcial (only a parcial convenio)"""

from conectividad.pago_endpoint import build
from recaudo.models.ledger import TipoConvenio  # noqa: F401

app, handler = build(TipoConvenio.PARCIAL)
