"""Sistema UNO's table: businesses, their school years and schools, the price configurations
(``colegio_articulo_precio``) and the dues (``colegio_articulo_abono``).

Keys (docs/data-model.md, "Cuotas"):
- business ``PK=EMPRESA#<b>``, ``SK=EMPRESA``; its school year ``SK=CICLO#<y>``; its school ``SK=COLEGIO#<s>``;
  the school's membership of a school year ``SK=COLEGIO#<s>#CICLO#<y>`` (written only when both exist);
- per school and year ``PK=CUOTAS#<b>#<s>#<y>``: a price configuration ``SK=PRECIO#<article>``, a due
  ``SK=ABONO#<article>#<grade>#<term>#<salesType>`` (its installments as a list, amounts as numbers);
- the id counter ``PK=CONTADOR``, ``SK=ABONO`` (an atomic ``ADD``: ids are reserved in blocks).

A due is written in a transaction that also checks, at write time, the school's membership and the price
configuration of its article; a new due is ``attribute_not_exists``, a replaced one ``version = :v``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from recaudo.data.dynamo import batch_get, from_item, guarded, key, query_all, to_item, transact
from recaudo.models.cuotas import Ciclo, ClaveCuota, Contexto, Cuota, NoExiste, Ocupado, Pago, Rechazo

MAX_ACCIONES = 100  # TransactWriteItems' limit


def _pk(ctx: Contexto) -> str:
    return f"CUOTAS#{ctx.business_id}#{ctx.school_id}#{ctx.school_year_id}"


def _sk(clave: ClaveCuota) -> str:
    return f"ABONO#{clave.article_ref_id}#{clave.grade_ref_id}#{clave.term_ref_id}#{clave.sales_type_ref_id}"


def _membresia(ctx: Contexto) -> dict[str, Any]:
    return key(f"EMPRESA#{ctx.business_id}", f"COLEGIO#{ctx.school_id}#CICLO#{ctx.school_year_id}")


def _pago_item(p: Pago) -> dict[str, Any]:
    return {
        "price": p.price,
        "discountPercent": p.discount_percent,
        "taxPercent": p.tax_percent,
        "startDate": p.start_date.isoformat(),
        "endDate": p.end_date.isoformat(),
    }


def _cuota(item: dict[str, Any]) -> Cuota:
    pagos = tuple(
        Pago(
            price=Decimal(p["price"]),
            discount_percent=Decimal(p["discountPercent"]),
            tax_percent=Decimal(p["taxPercent"]),
            start_date=date.fromisoformat(p["startDate"]),
            end_date=date.fromisoformat(p["endDate"]),
        )
        for p in item["pagos"]
    )
    clave = ClaveCuota(
        int(item["articleRefId"]), int(item["gradeRefId"]), int(item["termRefId"]), int(item["salesTypeRefId"])
    )
    return Cuota(clave, pagos, id=int(item["id"]), version=int(item["version"]))


class CuotasRepository:
    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    # ---- the request path ----

    def ciclo_del_colegio(self, ctx: Contexto) -> Ciclo | None:
        """The school year, if the school belongs to the business and to that year; else None."""
        ciclo_key = key(f"EMPRESA#{ctx.business_id}", f"CICLO#{ctx.school_year_id}")
        keys = [_membresia(ctx), ciclo_key]
        items = guarded(batch_get, throttled=Ocupado, client=self._client, table=self._table, keys=keys)
        por_sk = {i["SK"]: i for i in items}
        if _membresia(ctx)["SK"]["S"] not in por_sk:
            return None
        ciclo = por_sk.get(ciclo_key["SK"]["S"], {})
        inicio, fin = ciclo.get("inicio"), ciclo.get("fin")
        return Ciclo(
            ctx.school_year_id,
            date.fromisoformat(inicio) if inicio else None,
            date.fromisoformat(fin) if fin else None,
        )

    def articulos_con_precio(self, ctx: Contexto, articulos: Iterable[int]) -> set[int]:
        keys = [key(_pk(ctx), f"PRECIO#{a}") for a in sorted(set(articulos))]
        items = guarded(batch_get, throttled=Ocupado, client=self._client, table=self._table, keys=keys)
        return {int(i["articleRefId"]) for i in items}

    def cuotas(self, ctx: Contexto, claves: Iterable[ClaveCuota]) -> dict[ClaveCuota, Cuota]:
        keys = [key(_pk(ctx), _sk(c)) for c in dict.fromkeys(claves)]
        items = guarded(batch_get, throttled=Ocupado, client=self._client, table=self._table, keys=keys)
        return {c.clave: c for c in map(_cuota, items)}

    def todas(self, ctx: Contexto, page_limit: int = 250) -> list[Cuota]:
        """Every due of the school and year, in key order (a paginated Query)."""
        items = query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :abono)",
            ExpressionAttributeValues={":pk": {"S": _pk(ctx)}, ":abono": {"S": "ABONO#"}},
            ConsistentRead=True,
            Limit=page_limit,
        )
        return [_cuota(i) for i in items]

    def reservar_ids(self, cantidad: int) -> list[int]:
        """``cantidad`` new ids, never handed out before (one atomic ADD)."""
        if cantidad <= 0:
            return []
        response = guarded(
            self._client.update_item,
            throttled=Ocupado,
            TableName=self._table,
            Key=key("CONTADOR", "ABONO"),
            UpdateExpression="ADD valor :n",
            ExpressionAttributeValues={":n": {"N": str(cantidad)}},
            ReturnValues="UPDATED_NEW",
        )
        ultimo = int(response["Attributes"]["valor"]["N"])
        return list(range(ultimo - cantidad + 1, ultimo + 1))

    @staticmethod
    def acciones(articulos: int, cuotas: int) -> int:
        """How many transaction items a write of ``cuotas`` dues over ``articulos`` articles takes."""
        return 1 + articulos + cuotas

    def guardar(self, ctx: Contexto, cuotas: list[tuple[Cuota, int | None]], now: datetime) -> Rechazo | None:
        """Write ``cuotas`` (each with the version it replaces, or None for a new one) in one transaction
        that also checks the school's membership and each article's price configuration. None when
        written; else which checks failed (nothing was written)."""
        articulos = sorted({c.clave.article_ref_id for c, _ in cuotas})
        items: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": _membresia(ctx),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            }
        ]
        items += [
            {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": key(_pk(ctx), f"PRECIO#{a}"),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            }
            for a in articulos
        ]
        for cuota, version in cuotas:
            put: dict[str, Any] = {
                "TableName": self._table,
                "Item": to_item(
                    {
                        "PK": _pk(ctx),
                        "SK": _sk(cuota.clave),
                        "id": cuota.id,
                        "version": (version or 0) + 1,
                        "articleRefId": cuota.clave.article_ref_id,
                        "gradeRefId": cuota.clave.grade_ref_id,
                        "termRefId": cuota.clave.term_ref_id,
                        "salesTypeRefId": cuota.clave.sales_type_ref_id,
                        "pagos": [_pago_item(p) for p in cuota.pagos],
                        "actualizado": now.isoformat(),
                    }
                ),
            }
            if version is None:
                put["ConditionExpression"] = "attribute_not_exists(PK)"
            else:
                put["ConditionExpression"] = "version = :v"
                put["ExpressionAttributeValues"] = {":v": {"N": str(version)}}
            items.append({"Put": put})
        reasons = transact(self._client, items, throttled=Ocupado)
        if reasons is None:
            return None
        fallido = [r == "ConditionalCheckFailed" for r in reasons]
        # a due another transaction was writing at the same moment lost a race too: re-read it
        carrera = [r in ("ConditionalCheckFailed", "TransactionConflict") for r in reasons]
        n = len(articulos)
        return Rechazo(
            sin_colegio=fallido[0],
            articulos_sin_precio=frozenset(a for a, f in zip(articulos, fallido[1 : 1 + n], strict=True) if f),
            en_conflicto=frozenset(c.clave for (c, _), f in zip(cuotas, carrera[1 + n :], strict=True) if f),
        )

    # ---- the admin commands ----

    def crear_empresa(self, business_id: int, nombre: str, now: datetime) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_item(
                {
                    "PK": f"EMPRESA#{business_id}",
                    "SK": "EMPRESA",
                    "businessId": business_id,
                    "nombre": nombre,
                    "creado": now.isoformat(),
                }
            ),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def empresa(self, business_id: int) -> dict[str, Any] | None:
        item = self._client.get_item(
            TableName=self._table, Key=key(f"EMPRESA#{business_id}", "EMPRESA"), ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def _existe(self, pk: str, sk: str, que: str) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": key(pk, sk),
                "ConditionExpression": "attribute_exists(PK)",
            },
            "_que": que,
        }

    def _transaccion(self, items: list[dict[str, Any]]) -> None:
        que = [i.pop("_que", None) for i in items]
        reasons = transact(self._client, items, throttled=Ocupado)
        if reasons is not None:
            faltan = [q for q, r in zip(que, reasons, strict=True) if q and r == "ConditionalCheckFailed"]
            raise NoExiste(", ".join(faltan) or f"transacción cancelada: {reasons}")

    def crear_ciclo(self, business_id: int, ciclo: Ciclo) -> None:
        """Create or replace a school year (its dates bound the installments)."""
        pk = f"EMPRESA#{business_id}"
        self._transaccion(
            [
                self._existe(pk, "EMPRESA", f"empresa {business_id}"),
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {
                                "PK": pk,
                                "SK": f"CICLO#{ciclo.school_year_id}",
                                "schoolYearId": ciclo.school_year_id,
                                "inicio": ciclo.inicio.isoformat() if ciclo.inicio else None,
                                "fin": ciclo.fin.isoformat() if ciclo.fin else None,
                            }
                        ),
                    }
                },
            ]
        )

    def crear_colegio(self, business_id: int, school_id: int, nombre: str, ciclos: Iterable[int]) -> None:
        """Create or replace a school of the business, member of the given (existing) school years."""
        pk = f"EMPRESA#{business_id}"
        items = [
            self._existe(pk, "EMPRESA", f"empresa {business_id}"),
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item({"PK": pk, "SK": f"COLEGIO#{school_id}", "schoolId": school_id, "nombre": nombre}),
                }
            },
        ]
        for y in sorted(set(ciclos)):
            items.append(self._existe(pk, f"CICLO#{y}", f"ciclo {y}"))
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {"PK": pk, "SK": f"COLEGIO#{school_id}#CICLO#{y}", "schoolId": school_id, "schoolYearId": y}
                        ),
                    }
                }
            )
        if len(items) > MAX_ACCIONES:
            raise ValueError(f"a lo sumo {(MAX_ACCIONES - 2) // 2} ciclos por comando")
        self._transaccion(items)

    def configurar_precio(self, ctx: Contexto, article_ref_id: int, precio: Decimal | None = None) -> None:
        """A price configuration (``colegio_articulo_precio``) of an article for the school and year."""
        self._transaccion(
            [
                self._existe(
                    _membresia(ctx)["PK"]["S"],
                    _membresia(ctx)["SK"]["S"],
                    f"colegio {ctx.school_id} en el ciclo {ctx.school_year_id} de la empresa {ctx.business_id}",
                ),
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {
                                "PK": _pk(ctx),
                                "SK": f"PRECIO#{article_ref_id}",
                                "articleRefId": article_ref_id,
                                "precio": precio,
                            }
                        ),
                    }
                },
            ]
        )
