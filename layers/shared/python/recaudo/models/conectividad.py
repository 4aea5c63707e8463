"""Conectividad request and reply models: field names and types exactly as the document writes them."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from recaudo.money import Money


class _Reply(BaseModel):
    # defer_build (here and below): a function builds the models it uses, on first use; the others never
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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


# ---- payments ----


def _code(value: Any) -> str:
    """Codes the document sends as a number in some examples and a string in others."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError("se espera un código: texto o número entero")
    if isinstance(value, int | Decimal):
        if not Decimal(value).is_finite() or value < 0 or value >= 10**30 or value != int(value):
            raise ValueError("código inválido")
        return str(int(value))
    text = str(value).strip()
    if not text or len(text) > 30 or not text.isprintable() or not text.isascii():
        raise ValueError("código vacío, demasiado largo o con caracteres no válidos")
    return text


def _invoice(value: Any) -> int:
    """``numeroFactura`` arrives as an integer, a numeric string or (in the document) as 0.0."""
    if isinstance(value, bool) or value is None:
        raise ValueError("se espera un número de factura")
    try:
        if isinstance(value, str):
            value = value.strip()
            if not (value.isascii() and value.isdigit()):
                raise ValueError
        number = value if isinstance(value, Decimal) else Decimal(value)
        if not number.is_finite() or number.adjusted() >= 20 or number <= 0 or number != number.to_integral_value():
            raise ValueError
        return int(number)
    except (ArithmeticError, TypeError, ValueError):
        raise ValueError("numeroFactura debe ser un entero positivo") from None


# What a bank may send: text, or a whole number (the document writes codigoBanco both ways).
_CODIGO_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "string", "minLength": 1, "maxLength": 30}, {"type": "integer", "minimum": 0}],
    "description": 'Texto (hasta 30 caracteres) o número entero, p. ej. "00152" o 152',
}
Codigo = Annotated[str, BeforeValidator(_code), WithJsonSchema(_CODIGO_SCHEMA, mode="validation")]
NumeroFactura = Annotated[int, BeforeValidator(_invoice)]


class Transaccion(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    numeroPersona: int | None = None
    auxiliarContable: str = Field(min_length=1, max_length=30)
    numeroCuenta: Codigo
    tipoTransaccion: str = Field(min_length=1, max_length=30)
    numeroDocumento: Codigo


class _PagoBase(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    llaveAcceso: str = Field(min_length=1, max_length=200)
    codigoConvenio: Codigo
    codigoBanco: Codigo
    codigoAgencia: Codigo
    periodo: str = Field(pattern=r"^[0-9]{6}$", description="yyyymm del recibo")
    numeroFactura: NumeroFactura


def fingerprint(req: _PagoBase, tipo: str | None, banco: str) -> str:
    """SHA-256 of what a payment request asks for, the bank's code normalised and the secret left out."""
    import hashlib
    import json

    values = req.model_dump(mode="json", exclude={"llaveAcceso", "codigoBanco"})
    if values.get("transacciones"):
        values["transacciones"] = sorted(values["transacciones"], key=lambda t: json.dumps(t, sort_keys=True))
    canonical = json.dumps(values | {"tipo": tipo, "banco": banco}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


class PagoRequest(_PagoBase):
    montoTotal: Money = Field(gt=0)
    transacciones: list[Transaccion] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _distinct(self) -> PagoRequest:
        if self.transacciones is not None and len(set(self.transacciones)) != len(self.transacciones):
            raise ValueError("transacciones repetidas")
        return self


class ReversaRequest(_PagoBase):
    pass


class PagoItemReply(_Reply):
    numeroFactura: int
    codigoRespuesta: int
    idRubro: str | None = None
    descripcion: str | None = None
    montoPagado: Money | None = None


class HistorialReply(_Reply):
    numeroTransaccion: int
    fechaPago: str
    montoPago: Money
    cuentaOrigen: str
