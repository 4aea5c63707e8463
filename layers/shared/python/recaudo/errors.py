"""The one mapping from domain errors to the Conectividad return codes (0-5) and HTTP statuses."""

from __future__ import annotations

from enum import IntEnum


class CodigoRespuesta(IntEnum):
    EJECUCION_CORRECTA = 0
    ERROR_SISTEMA = 1
    DEUDOR_NO_EXISTE = 2
    SIN_FACTURAS_PENDIENTES = 3
    NO_AUTENTICADO = 4
    PARAMETROS_INCORRECTOS = 5


DESCRIPCIONES: dict[CodigoRespuesta, str] = {
    CodigoRespuesta.EJECUCION_CORRECTA: "Ejecución correcta",
    CodigoRespuesta.ERROR_SISTEMA: "Error de sistema",
    CodigoRespuesta.DEUDOR_NO_EXISTE: "Identificador de deudor no existe",
    CodigoRespuesta.SIN_FACTURAS_PENDIENTES: "Deudor no tiene facturas pendientes",
    CodigoRespuesta.NO_AUTENTICADO: "No autenticado",
    CodigoRespuesta.PARAMETROS_INCORRECTOS: "Parámetros incorrectos",
}

# The HTTP status each return code travels with (docs/decisions.md, "Return codes and HTTP").
HTTP_STATUS: dict[CodigoRespuesta, int] = {
    CodigoRespuesta.EJECUCION_CORRECTA: 200,
    CodigoRespuesta.ERROR_SISTEMA: 500,
    CodigoRespuesta.DEUDOR_NO_EXISTE: 404,
    CodigoRespuesta.SIN_FACTURAS_PENDIENTES: 404,
    CodigoRespuesta.NO_AUTENTICADO: 401,
    CodigoRespuesta.PARAMETROS_INCORRECTOS: 400,
}


class ConectividadError(Exception):
    """A business outcome that the API reports as a return code."""

    codigo: CodigoRespuesta = CodigoRespuesta.ERROR_SISTEMA

    def __init__(self, detalle: str | None = None) -> None:
        self.detalle = detalle
        super().__init__(self.descripcion)

    @property
    def descripcion(self) -> str:
        base = DESCRIPCIONES[self.codigo]
        return f"{base}: {self.detalle}" if self.detalle else base

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.codigo]

    def body(self) -> dict[str, object]:
        return error_body(self.codigo, self.detalle)


class ErrorSistema(ConectividadError):
    codigo = CodigoRespuesta.ERROR_SISTEMA


class DeudorNoExiste(ConectividadError):
    codigo = CodigoRespuesta.DEUDOR_NO_EXISTE


class SinFacturasPendientes(ConectividadError):
    codigo = CodigoRespuesta.SIN_FACTURAS_PENDIENTES


class NoAutenticado(ConectividadError):
    codigo = CodigoRespuesta.NO_AUTENTICADO


class ParametrosIncorrectos(ConectividadError):
    codigo = CodigoRespuesta.PARAMETROS_INCORRECTOS


def error_body(codigo: CodigoRespuesta, detalle: str | None = None) -> dict[str, object]:
    descripcion = DESCRIPCIONES[codigo]
    return {"codigoRespuesta": int(codigo), "descripcion": f"{descripcion}: {detalle}" if detalle else descripcion}


class CobranzasError(Exception):
    """A cobranzas refusal: the reply is ``text/plain`` ``ERROR: <descripcion>`` with ``status``."""

    def __init__(self, descripcion: str, status: int = 400, importacion: str | None = None) -> None:
        super().__init__(descripcion)
        self.descripcion = descripcion
        self.status = status
        # an import that was recorded (its report can be fetched): sent as X-Recaudo-Importacion
        self.importacion = importacion
