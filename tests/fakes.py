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


# ---- cobranzas (the S3 drop's ports: functions/cobranzas/deps.py) ----


@dataclass
class FakeClaims:
    """The import claims of ``Cobranzas`` (``IMP#<integrador>`` / ``<importacion>``): a claim is taken
    once; a failed run gives it back; a finished one stays."""

    claims: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    liberadas: list[tuple[str, str]] = field(default_factory=list)

    def reclamar_importacion(
        self, integrador: str, importacion: str, fuente: str, archivo: str, now: Any, ttl_seconds: int
    ) -> bool:
        if (integrador, importacion) in self.claims:
            return False
        self.claims[(integrador, importacion)] = {"estado": "EN_CURSO", "fuente": fuente, "archivo": archivo}
        return True

    def liberar_importacion(self, integrador: str, importacion: str) -> None:
        if self.claims.get((integrador, importacion), {}).get("estado") == "EN_CURSO":
            del self.claims[(integrador, importacion)]
            self.liberadas.append((integrador, importacion))

    def terminar_importacion(
        self, integrador: str, importacion: str, resultado: str, reporte: str, importados: int, fallidos: int
    ) -> None:
        self.claims[(integrador, importacion)].update(estado="TERMINADO", resultado=resultado, reporte=reporte)


@dataclass
class FakeIntegradores:
    integradores: dict[str, Any] = field(default_factory=dict)  # id -> Integrador

    def get(self, integrador_id: str) -> Any:
        return self.integradores.get(integrador_id)

    def autenticar(self, hash_presentado: str | None) -> Any:
        return None


@dataclass
class _Version:
    version: str
    body: bytes | None  # None: a delete marker
    reporte: bool = False


@dataclass
class FakeArchivos:
    """A bucket, versioned (or not): every PUT of a key is a new version; reads name one or take the
    current; our reports are marked as S3 user metadata marks them."""

    versioned: bool = True
    objetos: dict[str, list[_Version]] = field(default_factory=dict)
    puestos: list[str] = field(default_factory=list)  # every key written, in order
    _n: int = 0

    def put(self, key: str, body: bytes, reporte: bool = False) -> str | None:
        """An integrator's PUT (or ours): the new version's id (None when the bucket is not versioned)."""
        self._n += 1
        version = f"v{self._n}" if self.versioned else "null"
        versions = self.objetos.setdefault(key, []) if self.versioned else []
        versions.append(_Version(version, body, reporte))
        self.objetos[key] = versions
        return version if self.versioned else None

    def _get(self, key: str, version: str | None) -> _Version:
        versions = self.objetos.get(key) or []
        found = [v for v in versions if v.version == version] if version else versions[-1:]
        if not found or found[0].body is None:
            raise FileNotFoundError(key)
        return found[0]

    def trozos(self, key: str, chunk_bytes: int, version: str | None) -> Any:
        body = self._get(key, version).body or b""
        for start in range(0, len(body), chunk_bytes):
            yield body[start : start + chunk_bytes]

    def poner_texto(self, key: str, text: str) -> None:
        self.puestos.append(key)
        self.put(key, text.encode("utf-8"), reporte=True)

    def leer_texto(self, key: str) -> str | None:
        try:
            return (self._get(key, None).body or b"").decode("utf-8")
        except FileNotFoundError:
            return None

    def borrar(self, key: str) -> None:
        if self.versioned:
            self._n += 1
            self.objetos.setdefault(key, []).append(_Version(f"v{self._n}", None))
        else:
            self.objetos.pop(key, None)

    def es_reporte(self, key: str, version: str | None) -> bool:
        return self._get(key, version).reporte

    def version_actual(self, key: str) -> str | None:
        versions = self.objetos.get(key) or []
        if not self.versioned or not versions or versions[-1].body is None:
            return None
        return versions[-1].version

    def url_put(self, key: str, seconds: int) -> str:
        return f"https://bucket.example/{key}?expires={seconds}"
