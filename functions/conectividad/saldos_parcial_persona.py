"""GET /v1/integracion-conectividad/saldos-parcial-persona (identificacion or its alias idDeudor)"""

from conectividad.saldos_endpoint import build
from recaudo.models.ledger import TipoConvenio

app, handler = build(TipoConvenio.PARCIAL)
