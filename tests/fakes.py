"""In-memory stand-ins for the data-access classes, with the same observable behaviour."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from recaudo.events import PublishFailed
from recaudo.models.ledger import Convenio, Deuda, EstadoDeuda, Persona, TipoConvenio


@dataclass
class FakeLedger:
    personas: dict[str, Persona] = field(default_factory=dict)
    convenios: dict[str, Convenio] = field(default_factory=dict)
    predeterminados: dict[TipoConvenio, Convenio] = field(default_factory=dict)
    deudas: list[Deuda] = field(default_factory=list)
    calls: int = 0

    def get_persona(self, identificacion: str) -> Persona | None:
        self.calls += 1
        return self.personas.get(identificacion)

    def get_convenio(self, codigo: str) -> Convenio | None:
        self.calls += 1
        return self.convenios.get(codigo)

    def get_convenio_predeterminado(self, tipo: TipoConvenio) -> Convenio | None:
        self.calls += 1
        return self.predeterminados.get(tipo)

    def deudas_pendientes(
        self, identificacion: str, institucion: str, rubros: Sequence[str] = (), corte_hasta: date | None = None
    ) -> list[Deuda]:
        self.calls += 1
        out = [
            d
            for d in self.deudas
            if d.identificacion == identificacion
            and d.institucion == institucion
            and d.estado is EstadoDeuda.PENDIENTE
            and (not rubros or d.id_rubro in rubros)
            and (corte_hasta is None or d.fecha_corte <= corte_hasta)
        ]
        return sorted(out, key=lambda d: (d.fecha_corte, d.id_rubro, d.id_saldo))

    # same shape as LedgerRepository's writers, so demo.load_demo works against it
    def put_persona(self, p: Persona) -> None:
        self.personas[p.identificacion] = p

    def put_convenio(self, c: Convenio, predeterminado: bool = False) -> None:
        self.convenios[c.codigo] = c
        if predeterminado:
            self.predeterminados[c.tipo] = c

    def put_deuda(self, d: Deuda) -> None:
        self.deudas.append(d)


@dataclass
class FakeEvents:
    """An ``EventPublisher`` that records what is published; ``refuse`` makes every publication fail
    as EventBridge's ``FailedEntryCount`` would."""

    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse: bool = False

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        if self.refuse:
            raise PublishFailed("PutEvents failed: [{'ErrorCode': 'InternalFailure'}]")
        self.published.append((detail_type, dict(detail)))


def deuda(
    id_saldo: int,
    fecha_corte: date,
    *,
    identificacion: str = "12345678",
    rubro: str = "13",
    saldo: str = "100.00",
    interes: str = "0.00",
    estado: EstadoDeuda = EstadoDeuda.PENDIENTE,
    institucion: str = "MUNI",
) -> Deuda:
    periodo = f"{(fecha_corte.month - 1) // 3 + 1:02d}"
    base = Deuda(
        id_saldo=id_saldo,
        identificacion=identificacion,
        numero_persona=1,
        institucion=institucion,
        id_rubro=rubro,
        descripcion=f"RUBRO {rubro}",
        year=fecha_corte.year,
        periodo=periodo,
        fecha_corte=fecha_corte,
        saldo=Decimal(saldo),
        saldo_interes=Decimal(interes),
        tipo_cobro="SER",
        auxiliar_contable="CUF",
        numero_cuenta=1,
        tipo_transaccion="SER",
        numero_documento=str(id_saldo),
    )
    return replace(base, estado=estado)
