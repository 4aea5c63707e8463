"""The data construct: DynamoDB tables with point-in-time recovery and encryption at rest, and the event
bus with an archive of every event it carries (money events can be replayed)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_events as events
from constructs import Construct

from infra import constants as c
from recaudo.data.tables import CREDENTIALS, CUOTAS, IDEMPOTENCY, LEDGER, RADIAN, TableSpec


def _table(scope: Construct, spec: TableSpec, warm_writes: int | None = None) -> ddb.Table:
    """A table; ``warm_writes`` pre-warms it (and its indexes) for that many writes per second at once."""
    warm = (
        ddb.WarmThroughput(read_units_per_second=c.WARM_READ_UNITS, write_units_per_second=warm_writes)
        if warm_writes
        else None
    )
    table = ddb.Table(
        scope,
        spec.logical_id,
        partition_key=ddb.Attribute(name=spec.pk, type=ddb.AttributeType.STRING),
        sort_key=ddb.Attribute(name=spec.sk, type=ddb.AttributeType.STRING) if spec.sk else None,
        billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True),
        encryption=ddb.TableEncryption.AWS_MANAGED,
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
        time_to_live_attribute=spec.ttl_attribute,
        warm_throughput=warm,
    )
    for gsi in spec.gsis:
        table.add_global_secondary_index(
            index_name=gsi.name,
            partition_key=ddb.Attribute(name=gsi.pk, type=ddb.AttributeType.STRING),
            sort_key=ddb.Attribute(name=gsi.sk, type=ddb.AttributeType.STRING),
            warm_throughput=warm,
        )
    return table


class DataConstruct(Construct):
    """The tables (the shared ones, RADIAN's and UNO's own), the event bus and its archive."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # A collections file at the HTTP endpoint's limit (~64,000 rows, ~290,000 transactional write
        # units) lands within the gateway's 29 s only if the table takes ~20,000 writes/s from the start.
        self.ledger = _table(self, LEDGER, warm_writes=c.LEDGER_WARM_WRITE_UNITS)
        self.credentials = _table(self, CREDENTIALS)
        self.idempotency = _table(self, IDEMPOTENCY)
        self.radian = _table(self, RADIAN)
        self.cuotas = _table(self, CUOTAS)
        self.bus = events.EventBus(self, "Bus", event_bus_name=c.EVENT_BUS_NAME)
        # Every event on the bus (PaymentConfirmed, PaymentCompensated, PaymentReversed…), replayable to a
        # consumer that lost some: the pattern matches all of this account's events.
        self.archive = events.Archive(
            self,
            "Archive",
            archive_name=c.EVENT_ARCHIVE_NAME,
            description="recaudo: every event of the bus, for replay",
            source_event_bus=self.bus,
            event_pattern=events.EventPattern(account=[Stack.of(self).account]),
            retention=Duration.days(c.EVENT_ARCHIVE_RETENTION_DAYS),
        )
