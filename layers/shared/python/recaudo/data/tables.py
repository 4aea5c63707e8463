"""The tables' key schemas: one description shared by the CDK data construct, the admin CLI and tests."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GsiSpec:
    name: str
    pk: str
    sk: str


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    pk: str = "PK"
    sk: str | None = "SK"
    gsis: tuple[GsiSpec, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None

    def create_table_kwargs(self, table_name: str) -> dict:
        """CreateTable arguments (on-demand) for emulators and the admin CLI."""
        attributes = {self.pk, *([self.sk] if self.sk else [])} | {a for g in self.gsis for a in (g.pk, g.sk)}
        kwargs: dict = {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
            "KeySchema": [{"AttributeName": self.pk, "KeyType": "HASH"}]
            + ([{"AttributeName": self.sk, "KeyType": "RANGE"}] if self.sk else []),
        }
        if self.gsis:
            kwargs["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": g.name,
                    "KeySchema": [
                        {"AttributeName": g.pk, "KeyType": "HASH"},
                        {"AttributeName": g.sk, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for g in self.gsis
            ]
        return kwargs


# Persons, debts (saldos), invoice pointers and convenios: one table, keys in docs/data-model.md.
# GSI1: an integrator's collections by period, client and concept (sparse: only collection debts).
# GSI2: payments left APLICADO, by payment time (sparse: only while APLICADO), for the sweeper.
LEDGER = TableSpec(
    logical_id="Ledger",
    gsis=(GsiSpec(name="GSI1", pk="GSI1PK", sk="GSI1SK"), GsiSpec(name="GSI2", pk="GSI2PK", sk="GSI2SK")),
)
# Bank API tokens and bank records (hashed secrets only).
CREDENTIALS = TableSpec(logical_id="Credentials")
# Powertools idempotency records (its default key and expiry attributes).
IDEMPOTENCY = TableSpec(logical_id="Idempotency", pk="id", sk=None, ttl_attribute="expiration")
# RADIAN: tracked invoices and their events (keys in docs/data-model.md). GSI1: the polling schedule
# (sparse: only invoices still polled, sharded); GSI2: a tenant's invoices by CUFE (listing).
RADIAN = TableSpec(
    logical_id="Radian",
    gsis=(GsiSpec(name="GSI1", pk="GSI1PK", sk="GSI1SK"), GsiSpec(name="GSI2", pk="GSI2PK", sk="GSI2SK")),
)
# Sistema UNO: businesses, schools, school years, price configurations and dues (keys in docs/data-model.md).
CUOTAS = TableSpec(logical_id="Cuotas")
