"""Data access for persons, convenios and debts (saldos). Keys: docs/data-model.md."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from recaudo.data.dynamo import batch_put, from_item, key, query_all, to_item
from recaudo.models.ledger import Convenio, Deuda, EstadoDeuda, Persona, TipoConvenio


class DuplicateRecord(Exception):
    """A record with that identity already exists."""


def persona_pk(identificacion: str) -> str:
    return f"PER#{identificacion}"


def deuda_key(d: Deuda) -> tuple[str, str]:
    return persona_pk(d.identificacion), deuda_sk(d)


def deuda_sk(d: Deuda) -> str:
    """Ordered by cut-off date (monthly and quarterly periods interleave correctly)."""
    return f"SALDO#{d.institucion}#{d.fecha_corte.isoformat()}#{d.id_rubro}#{d.id_saldo:020d}"


def factura_pk(id_saldo: int) -> str:
    return f"FACT#{id_saldo}"


def transaccion_pk(auxiliar: str, cuenta: int | str, tipo: str, documento: str) -> str:
    """The carrito-de-compras identity of a debt, as a bank sends it back in ``transacciones``."""
    return f"TX#{auxiliar}#{cuenta}#{tipo}#{documento}"


class LedgerRepository:
    def __init__(self, table_name: str, client: Any, page_limit: int = 250) -> None:
        self._table = table_name
        self._client = client
        self._page_limit = page_limit

    # ---- reads (request path: GetItem and Query only) ----

    def get_persona(self, identificacion: str) -> Persona | None:
        item = self._get(persona_pk(identificacion), "PERFIL")
        if item is None:
            return None
        return Persona(
            identificacion=item["identificacion"],
            nombre=item["nombre"],
            tipo_identificacion=item["tipoIdentificacion"],
            numero_persona=int(item["numeroPersona"]),
        )

    def get_convenio(self, codigo: str) -> Convenio | None:
        item = self._get(f"CONV#{codigo}", "CONV")
        return _convenio(item) if item else None

    def get_convenio_predeterminado(self, tipo: TipoConvenio) -> Convenio | None:
        item = self._get(f"CONVTIPO#{tipo.value}", "CONVTIPO")
        return _convenio(item) if item else None

    def deudas_pendientes(
        self,
        identificacion: str,
        institucion: str,
        rubros: Iterable[str] = (),
        corte_hasta: date | None = None,
    ) -> list[Deuda]:
        """Pending debts of one person at one institution, oldest cut-off date first. The cut-off
        bound is part of the key condition; state and rubros are filters."""
        filters = ["estado = :pendiente"]
        prefix = f"SALDO#{institucion}#"
        values: dict[str, Any] = {":pk": persona_pk(identificacion), ":pendiente": EstadoDeuda.PENDIENTE.value}
        if corte_hasta is None:
            key_condition = "PK = :pk AND begins_with(SK, :prefix)"
            values[":prefix"] = prefix
        else:
            key_condition = "PK = :pk AND SK BETWEEN :desde AND :hasta"
            values[":desde"], values[":hasta"] = prefix, f"{prefix}{corte_hasta.isoformat()}#~"
        rubros = tuple(rubros)
        if rubros:
            names = [f":r{i}" for i in range(len(rubros))]
            filters.append(f"idRubro IN ({', '.join(names)})")
            values.update(dict(zip(names, rubros, strict=True)))
        items = query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression=key_condition,
            FilterExpression=" AND ".join(filters),
            ExpressionAttributeValues=to_item(values),
            ConsistentRead=True,
            Limit=self._page_limit,
        )
        return [_deuda(item) for item in items]

    def get_deuda_por_factura(self, id_saldo: int) -> Deuda | None:
        """A debt by its invoice number (``numeroFactura``), whatever its state."""
        return self._deuda_via(factura_pk(id_saldo), "FACT")

    def get_deuda_por_transaccion(self, auxiliar: str, cuenta: int | str, tipo: str, documento: str) -> Deuda | None:
        return self._deuda_via(transaccion_pk(auxiliar, cuenta, tipo, documento), "TX")

    def _deuda_via(self, pk: str, sk: str) -> Deuda | None:
        pointer = self._get(pk, sk)
        if pointer is None or "deudaPK" not in pointer:  # none, or only a cart's reservation of the number
            return None
        item = self._get(pointer["deudaPK"], pointer["deudaSK"])
        return _deuda(item) if item else None

    # ---- writes (admin CLI and demo data; payments come with their own conditional writes) ----

    def put_persona(self, p: Persona) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_item(
                {
                    "PK": persona_pk(p.identificacion),
                    "SK": "PERFIL",
                    "identificacion": p.identificacion,
                    "nombre": p.nombre,
                    "tipoIdentificacion": p.tipo_identificacion,
                    "numeroPersona": p.numero_persona,
                }
            ),
        )

    def put_convenio(self, c: Convenio, predeterminado: bool = False) -> None:
        values = {
            "codigo": c.codigo,
            "tipo": c.tipo.value,
            "descripcion": c.descripcion,
            "institucion": c.institucion,
            "rubros": list(c.rubros) or None,
            "integrador": c.integrador or None,
        }
        writes = [
            {"Put": {"TableName": self._table, "Item": to_item({"PK": f"CONV#{c.codigo}", "SK": "CONV"} | values)}}
        ]
        if predeterminado:
            pointer = {"PK": f"CONVTIPO#{c.tipo.value}", "SK": "CONVTIPO"} | values
            writes.append({"Put": {"TableName": self._table, "Item": to_item(pointer)}})
        self._client.transact_write_items(TransactItems=writes)

    def put_deuda(self, d: Deuda) -> None:
        """Store a new debt and its invoice pointer; the idSaldo must be new and the person must exist."""
        pk, sk = persona_pk(d.identificacion), deuda_sk(d)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": key(pk, "PERFIL"),
                            "ConditionExpression": "attribute_exists(PK)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item({"PK": pk, "SK": sk} | _deuda_values(d)),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item({"PK": factura_pk(d.id_saldo), "SK": "FACT", "deudaPK": pk, "deudaSK": sk}),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    *self._transaction_pointer(d, pk, sk),
                ]
            )
        except self._client.exceptions.TransactionCanceledException as exc:
            raise DuplicateRecord(f"saldo {d.id_saldo} already exists or person {d.identificacion} is unknown") from exc

    def bulk_load_deudas(self, deudas: list[Deuda]) -> int:
        """Write debts and their pointers with batched, unconditional puts: only for loading an empty
        table whose invoice numbers are known to be unique (the local stack's demo seed)."""
        items: list[dict[str, Any]] = []
        for d in deudas:
            pk, sk = deuda_key(d)
            items.append({"PK": pk, "SK": sk} | _deuda_values(d))
            items.append({"PK": factura_pk(d.id_saldo), "SK": "FACT", "deudaPK": pk, "deudaSK": sk})
            for pointer in self._transaction_pointer(d, pk, sk):
                items.append(from_item(pointer["Put"]["Item"]))
        return batch_put(self._client, self._table, items)

    def _transaction_pointer(self, d: Deuda, pk: str, sk: str) -> list[dict[str, Any]]:
        if not (d.auxiliar_contable and d.numero_cuenta is not None and d.tipo_transaccion and d.numero_documento):
            return []
        tx = transaccion_pk(d.auxiliar_contable, d.numero_cuenta, d.tipo_transaccion, d.numero_documento)
        return [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item({"PK": tx, "SK": "TX", "deudaPK": pk, "deudaSK": sk}),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]

    # ---- helpers ----

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._client.get_item(TableName=self._table, Key=key(pk, sk), ConsistentRead=True)
        item = response.get("Item")
        return from_item(item) if item else None


def _convenio(item: dict[str, Any]) -> Convenio:
    return Convenio(
        codigo=item["codigo"],
        tipo=TipoConvenio(item["tipo"]),
        descripcion=item["descripcion"],
        institucion=item["institucion"],
        rubros=tuple(item.get("rubros") or ()),
        integrador=str(item.get("integrador") or ""),
    )


def _deuda_values(d: Deuda) -> dict[str, Any]:
    return {
        "idSaldo": d.id_saldo,
        "identificacion": d.identificacion,
        "numeroPersona": d.numero_persona,
        "institucion": d.institucion,
        "idRubro": d.id_rubro,
        "descripcion": d.descripcion,
        "year": d.year,
        "periodo": d.periodo,
        "fechaCorte": d.fecha_corte.isoformat(),
        "saldo": d.saldo,
        "saldoInteres": d.saldo_interes,
        "tipoCobro": d.tipo_cobro,
        "estado": d.estado.value,
        "version": d.version,
        "auxiliarContable": d.auxiliar_contable,
        "numeroCuenta": d.numero_cuenta,
        "tipoTransaccion": d.tipo_transaccion,
        "numeroDocumento": d.numero_documento,
    }


def _deuda(item: dict[str, Any]) -> Deuda:
    cuenta = item.get("numeroCuenta")
    return Deuda(
        id_saldo=int(item["idSaldo"]),
        identificacion=item["identificacion"],
        numero_persona=int(item["numeroPersona"]),
        institucion=item["institucion"],
        id_rubro=item["idRubro"],
        descripcion=item["descripcion"],
        year=int(item["year"]),
        periodo=item["periodo"],
        fecha_corte=date.fromisoformat(item["fechaCorte"]),
        saldo=Decimal(item["saldo"]),
        saldo_interes=Decimal(item["saldoInteres"]),
        tipo_cobro=item["tipoCobro"],
        estado=EstadoDeuda(item["estado"]),
        version=int(item["version"]),
        auxiliar_contable=item.get("auxiliarContable"),
        numero_cuenta=int(cuenta) if cuenta is not None else None,
        tipo_transaccion=item.get("tipoTransaccion"),
        numero_documento=item.get("numeroDocumento"),
    )
