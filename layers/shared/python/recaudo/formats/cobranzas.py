"""The Pay per TIC collections CSV: streamed line splitting, encoding detection, row validation and
the export format. Pure CPU, no I/O: the importer feeds it byte chunks from an HTTP body or an S3
stream, so a file is never held whole in memory.

Format (the Pay per TIC document, seed 001, and its public facts): no header, ``;`` separated, nothing
quoted, 8 to 10 fields (a trailing ``;`` is an empty last field, not one more column)::

    IDCliente;NombreCliente;CelularCliente;TelefonoCliente;MailCliente;IDConcepto;DescripcionConcepto;Monto[;Opcional1[;Opcional2]]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from hashlib import blake2b

CAMPOS = (
    "IDCliente",
    "NombreCliente",
    "CelularCliente",
    "TelefonoCliente",
    "MailCliente",
    "IDConcepto",
    "DescripcionConcepto",
    "Monto",
    "Opcional1",
    "Opcional2",
)
COLUMNAS_EXPORTACION = (*CAMPOS, "Estado", "MotivoRechazo")
# every period at once (periodo=*): one more column at the end, so single-period exports keep the document's order
COLUMNA_PERIODO = "Periodo"

MAX_LINEA_BYTES = 4096
# Lines read without a single 8- to 10-field row before the file is judged "not this CSV".
LINEAS_SONDA = 50
MAX_FALLIDAS_EN_REPORTE = 10_000

_BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# "Alfanumérico" is a text type: national ids (12.345.678), CUITs (20-12345678-9), member numbers.
# Only '#' is refused: it separates the parts of the ledger's keys.
_ID_CLIENTE_PROHIBIDO = "#"
MAX_ID_CLIENTE = 30
_ID_CONCEPTO = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
_MAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_MONTO = re.compile(r"^[0-9]{1,13}(?:\.[0-9]{1,2})?$")
_LARGOS = {1: 120, 2: 30, 3: 30, 4: 120, 6: 120, 8: 120, 9: 120}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class ArchivoInvalido(Exception):
    """A whole-file problem: the import stops and replies ``ERROR: <message>``."""


@dataclass(frozen=True, slots=True)
class Fila:
    """A valid row. Text fields are stripped; ``monto`` is exact."""

    linea: int
    id_cliente: str
    nombre: str
    celular: str
    telefono: str
    mail: str
    id_concepto: str
    descripcion: str
    monto: Decimal
    opcional1: str = ""
    opcional2: str = ""
    # the n-th row of this client and concept in the file: two charges of one concept are two collections
    ocurrencia: int = 1

    @property
    def clave(self) -> tuple[str, str, int]:
        return self.id_cliente, self.id_concepto, self.ocurrencia

    def huella(self) -> str:
        """What the row says, as a short digest: a re-import of an unchanged row writes nothing."""
        text = "\x1f".join((*self.textos(), format_monto(self.monto)))
        return blake2b(text.encode("utf-8"), digest_size=12).hexdigest()

    def textos(self) -> tuple[str, ...]:
        return (
            self.id_cliente,
            self.nombre,
            self.celular,
            self.telefono,
            self.mail,
            self.id_concepto,
            self.descripcion,
            self.opcional1,
            self.opcional2,
        )


@dataclass(frozen=True, slots=True)
class Fallida:
    linea: int
    motivo: str


def format_monto(monto: Decimal) -> str:
    """Pesos with two decimals, as a reconciliation expects (``99`` -> ``99.00``)."""
    return f"{monto:.2f}"


def partir_lineas(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """Number and split a byte stream into lines (LF or CRLF), keeping at most one line in memory.

    A line longer than ``MAX_LINEA_BYTES`` comes out as ``None`` (the rest of it is skipped).
    """
    numero = 0
    pendiente = b""
    descartando = False
    for chunk in chunks:
        if not chunk:
            continue
        partes = (pendiente + chunk).split(b"\n") if pendiente else chunk.split(b"\n")
        pendiente = partes.pop()
        for parte in partes:
            numero += 1
            if descartando:
                descartando = False
                yield numero, None
            elif len(parte) > MAX_LINEA_BYTES:
                yield numero, None
            else:
                yield numero, parte
        if len(pendiente) > MAX_LINEA_BYTES:
            pendiente, descartando = b"", True
    if descartando:
        yield numero + 1, None
    elif pendiente:
        yield numero + 1, pendiente


def decodificar(raw: bytes) -> str | None:
    """UTF-8 when the bytes are valid UTF-8, else Windows-1252 (what spreadsheets re-save); None if
    neither reads them. Per line, so detection needs no second pass over a streamed file."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return None


def validar(linea: int, texto: str) -> Fila | Fallida:
    """One decoded line (without its line break) -> a valid row or the reason it fails."""
    if _CONTROL.search(texto):
        return Fallida(linea, "contiene caracteres de control (tabulador u otros)")
    campos = [c.strip() for c in texto.split(";")]
    while len(campos) > 8 and not campos[-1]:
        campos.pop()  # a trailing ';' (or empty optionals) adds nothing
    n = len(campos)
    if not 8 <= n <= 10:
        return Fallida(linea, f"se esperaban de 8 a 10 campos separados por ';' y hay {n}")
    id_cliente, nombre, celular, telefono, mail, id_concepto, descripcion, monto = campos[:8]
    if id_cliente.lower() == "idcliente":
        return Fallida(linea, "parece un encabezado: el archivo no lleva encabezado")
    if not nombre:
        return Fallida(linea, "NombreCliente es obligatorio")
    if not mail:
        return Fallida(linea, "MailCliente es obligatorio")
    if not _MAIL.match(mail):
        return Fallida(linea, "MailCliente no es una dirección de correo válida")
    if not id_cliente:
        # a new member without a number yet (the public PHP example): the client is its mail address
        id_cliente = mail.lower()
        if _ID_CLIENTE_PROHIBIDO in id_cliente:
            return Fallida(linea, "IDCliente vacío y MailCliente con '#': no sirve de IDCliente")
    elif len(id_cliente) > MAX_ID_CLIENTE:
        return Fallida(linea, f"IDCliente supera los {MAX_ID_CLIENTE} caracteres")
    elif _ID_CLIENTE_PROHIBIDO in id_cliente:
        return Fallida(linea, "IDCliente no admite '#'")
    if not id_concepto:
        return Fallida(linea, "IDConcepto es obligatorio")
    if not _ID_CONCEPTO.match(id_concepto):
        return Fallida(linea, "IDConcepto admite letras, dígitos, '.', '_' y '-' (hasta 40)")
    for i, largo in _LARGOS.items():
        if i < n and len(campos[i]) > largo:
            return Fallida(linea, f"{CAMPOS[i]} supera los {largo} caracteres")
    if not monto:
        return Fallida(linea, "Monto es obligatorio")
    if not _MONTO.match(monto):
        if "," in monto:
            return Fallida(linea, "Monto debe usar punto decimal (ej. 2786.35)")
        return Fallida(linea, "Monto debe ser un número positivo con hasta 2 decimales (ej. 2786.35)")
    valor = Decimal(monto)
    if not valor:
        return Fallida(linea, "Monto debe ser mayor que cero")
    return Fila(
        linea,
        id_cliente,
        nombre,
        celular,
        telefono,
        mail,
        id_concepto,
        descripcion,
        valor,
        campos[8] if n >= 9 else "",
        campos[9] if n == 10 else "",
    )


class Lector:
    """Reads a collections file chunk by chunk and yields valid rows and failed rows, in order.

    Whole-file problems raise ``ArchivoInvalido``: an empty file, UTF-16, binary content, or no
    8- to 10-field row among the first ``LINEAS_SONDA`` lines (not this CSV). A row repeating the
    client and concept of an earlier row is the next occurrence of that charge (``Fila.ocurrencia``).
    """

    def __init__(self) -> None:
        self.lineas = 0
        self.validas = 0
        self.fallidas = 0
        self._vistas: dict[tuple[str, str], int] = {}
        self._con_forma = False

    def filas(self, chunks: Iterable[bytes]) -> Iterator[Fila | Fallida]:
        no_vacias = 0
        for numero, raw in partir_lineas(chunks):
            self.lineas = numero
            if numero == 1 and raw is not None:
                if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                    raise ArchivoInvalido("codificación UTF-16 no soportada: use UTF-8 o Windows-1252")
                if raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]
            if raw is not None:
                if raw.endswith(b"\r"):
                    raw = raw[:-1]
                if not raw.strip():
                    continue  # blank lines (a trailing newline, an empty last line) are not rows
                if b"\x00" in raw:
                    if not self._con_forma:
                        raise ArchivoInvalido("el archivo no es un CSV de texto")
                    yield self._falla(Fallida(numero, "contiene bytes nulos"))
                    continue
            no_vacias += 1
            if raw is None:
                resultado: Fila | Fallida = Fallida(numero, f"línea de más de {MAX_LINEA_BYTES} bytes")
            else:
                texto = decodificar(raw)
                if texto is None:
                    resultado = Fallida(numero, "codificación no reconocida (use UTF-8 o Windows-1252)")
                else:
                    if 7 <= texto.count(";") <= 10:
                        self._con_forma = True  # the shape of this CSV, valid or not
                    resultado = validar(numero, texto)
            if not self._con_forma and no_vacias >= LINEAS_SONDA:
                raise ArchivoInvalido(_NO_ES_CSV)
            if isinstance(resultado, Fila):
                par = resultado.id_cliente, resultado.id_concepto
                ocurrencia = self._vistas.get(par, 0) + 1
                self._vistas[par] = ocurrencia
                if ocurrencia > 1:
                    resultado = replace(resultado, ocurrencia=ocurrencia)
                self.validas += 1
                yield resultado
                continue
            yield self._falla(resultado)
        if no_vacias == 0:
            raise ArchivoInvalido("el archivo está vacío")
        if not self._con_forma:
            raise ArchivoInvalido(_NO_ES_CSV)

    def _falla(self, fallida: Fallida) -> Fallida:
        self.fallidas += 1
        return fallida


_NO_ES_CSV = "el archivo no tiene el formato de cobranzas (8 a 10 campos separados por ';', sin encabezado)"


# ---- export ----


def celda(texto: str) -> str:
    """A text cell that a spreadsheet will not evaluate: formula triggers get a leading quote."""
    if texto and texto.startswith(_FORMULA):
        return "'" + texto
    return texto


def _tal_cual(texto: str) -> str:
    return texto


def linea_exportacion(
    textos: tuple[str, ...],
    monto: Decimal,
    estado: str,
    motivo: str,
    periodo: str | None = None,
    planilla: bool = False,
) -> str:
    """One export row: the import's 10 columns, then estado and motivo de rechazo (``;``, CRLF), then
    the period when every period is exported. ``planilla`` (descargar/csv, a file for spreadsheets)
    neutralises formula triggers; exportar/csv, read by programs, gives the values exactly as stored."""
    texto = celda if planilla else _tal_cual
    cells = [texto(t) for t in textos[:7]]
    cells.append(format_monto(monto))
    cells.extend(texto(t) for t in textos[7:])
    cells.append(estado)
    cells.append(texto(motivo))
    if periodo is not None:
        cells.append(periodo)
    return ";".join(cells) + "\r\n"


def reporte(resultado: str, fallidas: list[Fallida], omitidas: int = 0) -> str:
    """The import report: the OK/ERROR line, then one line per failed row."""
    lines = [resultado]
    lines += [f"línea {f.linea}: {f.motivo}" for f in sorted(fallidas, key=lambda f: f.linea)]
    if omitidas:
        lines.append(f"... y {omitidas} filas fallidas más")
    return "\n".join(lines) + "\n"
