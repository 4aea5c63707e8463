"""Conectividad reply models: field names and types exactly as the document writes them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from recaudo.money import Money


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonaReply(_Reply):
    identificacion: str
    nombre: str
    tipoIdentificacion: str


class SaldoReply(_Reply):
    descripcion: str
    estado: str
    fechaCorte: str = Field(description="dd/mm/yyyy")
    idRubro: str
    idSaldo: int = Field(description="Número de factura del saldo: el numeroFactura de ejecutar-pago")
    monto: Money = Field(description="saldo + saldoInteres")
    numeroPersona: int
    periodo: str
    saldo: Money
    saldoInteres: Money
    tipoCobro: str
    year: str
    # Only for the carrito-de-compras convenio: what the bank sends back in ``transacciones``.
    auxiliarContable: str | None = None
    numeroCuenta: int | None = None
    tipoTransaccion: str | None = None
    numeroDocumento: str | None = None


class SaldoResumenReply(_Reply):
    descripcion: str
    idReferencia: int = Field(description="year * 100 + idRubro")
    idRubro: str
    montoTotal: Money
    year: int


class _Pagina(_Reply):
    cantidadPaginas: int
    longitudPagina: int
    numeroPagina: int


class SaldosResumenPage(_Pagina):
    saldosPersonaResumen: list[SaldoResumenReply]


class SaldosDetallePage(_Pagina):
    saldosPersona: list[SaldoReply]


class ErrorReply(_Reply):
    codigoRespuesta: int = Field(ge=0, le=5)
    descripcion: str
