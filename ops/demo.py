"""A realistic demo data set: persons with quarterly debts across years, rubros and states, and one
convenio of every type. Deterministic for a given date, so tests and the local stack agree."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from recaudo.data.ledger import DuplicateRecord, LedgerRepository
from recaudo.dates import end_of_month
from recaudo.models.ledger import Convenio, Deuda, EstadoDeuda, Persona, TipoConvenio

RUBROS: dict[str, tuple[str, str, Decimal, bool]] = {
    # idRubro: (descripcion, tipoCobro, saldo per period, billed monthly (else quarterly))
    "13": ("SERVICIO DE RECOLECCIÓN DE BASURA RESID", "SER", Decimal("2400.00"), True),
    "17": ("MANTENIMIENTO DE VIAS Y SITIOS PÚBLICOS", "SER", Decimal("1030.34"), False),
    "24": ("PARQUES ZONAS VERDES", "SER", Decimal("442.93"), False),
    "39": ("Impuesto sobre Bienes Inmuebles", "IBI", Decimal("3750.00"), False),
}

CONVENIOS: tuple[tuple[Convenio, bool], ...] = (
    (Convenio("001", TipoConvenio.TOTAL, "Convenio total: todos los saldos pendientes"), True),
    (Convenio("002", TipoConvenio.PARCIAL, "Convenio parcial: saldos al periodo en curso"), True),
    (Convenio("003", TipoConvenio.VENCIDO, "Convenio vencido: saldos con fecha de corte pasada"), True),
    (Convenio("004", TipoConvenio.CARRITO, "Carrito de compras: el banco elige las transacciones"), True),
    (Convenio("013", TipoConvenio.TOTAL, "Recolección de basura", rubros=("13",)), False),
)

PERSONAS = (
    Persona("12345678", "Julio Cascante", "F", 1),
    Persona("87654321", "María Fernanda Rojas Quesada", "F", 2),
    Persona("3101123456", "Comercial El Sol S.A.", "J", 3),  # every debt paid: code 3
    Persona("11111111", "Ana Lucía Mora", "F", 4),  # no debts at all
)


@dataclass(frozen=True)
class DemoDataset:
    personas: tuple[Persona, ...]
    convenios: tuple[tuple[Convenio, bool], ...]
    deudas: tuple[Deuda, ...]


def _interes(saldo: Decimal, corte: date, today: date) -> Decimal:
    """1 % of the saldo per started month overdue (a simple, exact demo rule)."""
    months = (today.year - corte.year) * 12 + today.month - corte.month + 1 if corte < today else 0
    return (saldo * Decimal(months) / Decimal(100)).quantize(Decimal("0.01"))


def _periodos(monthly: bool) -> list[tuple[str, int]]:
    """(periodo, month of the cut-off): 01-12 monthly, 01-04 quarterly."""
    return [(f"{m:02d}", m) for m in range(1, 13)] if monthly else [(f"{q:02d}", 3 * q) for q in range(1, 5)]


def _deudas(persona: Persona, rubros: tuple[str, ...], years: range, today: date) -> list[Deuda]:
    out = []
    for year in years:
        for rubro in rubros:
            descripcion, tipo_cobro, saldo, monthly = RUBROS[rubro]
            for periodo, month in _periodos(monthly):
                corte = end_of_month(date(year, month, 1))
                id_saldo = int(f"{year}{periodo}{rubro}{persona.numero_persona:03d}")
                out.append(
                    Deuda(
                        id_saldo=id_saldo,
                        identificacion=persona.identificacion,
                        numero_persona=persona.numero_persona,
                        institucion="MUNI",
                        id_rubro=rubro,
                        descripcion=descripcion,
                        year=year,
                        periodo=periodo,
                        fecha_corte=corte,
                        saldo=saldo,
                        saldo_interes=_interes(saldo, corte, today),
                        tipo_cobro=tipo_cobro,
                        auxiliar_contable="CUF",
                        numero_cuenta=persona.numero_persona,
                        tipo_transaccion=tipo_cobro,
                        numero_documento=str(id_saldo),
                    )
                )
    return out


def demo_dataset(today: date) -> DemoDataset:
    julio, maria, empresa, _ana = PERSONAS
    y = today.year
    deudas = (
        # Julio: four rubros from two years ago to next year. Two years ago is paid except the property
        # tax (arrears), so every convenio type has something to select.
        [
            replace(d, estado=EstadoDeuda.PAGADO) if d.year == y - 2 and d.id_rubro != "39" else d
            for d in _deudas(julio, ("13", "17", "24", "39"), range(y - 2, y + 2), today)
        ]
        # María: basura and IBI for this year and next.
        + _deudas(maria, ("13", "39"), range(y, y + 2), today)
        # The company: everything paid.
        + [replace(d, estado=EstadoDeuda.PAGADO) for d in _deudas(empresa, ("39",), range(y - 1, y + 1), today)]
    )
    return DemoDataset(personas=PERSONAS, convenios=CONVENIOS, deudas=tuple(deudas))


def load_demo(ledger: LedgerRepository, today: date, empty_table: bool = False) -> tuple[DemoDataset, int]:
    """Write the demo data set. Debts already present are left as they are, and counted; on a table
    known to be empty (the local stack's) they go in with batched writes. Returns (data, skipped)."""
    data = demo_dataset(today)
    for convenio, predeterminado in data.convenios:
        ledger.put_convenio(convenio, predeterminado=predeterminado)
    for persona in data.personas:
        ledger.put_persona(persona)
    if empty_table:
        ledger.bulk_load_deudas(list(data.deudas))
        return data, 0
    skipped = 0
    for deuda in data.deudas:
        try:
            ledger.put_deuda(deuda)
        except DuplicateRecord:
            skipped += 1
    return data, skipped
