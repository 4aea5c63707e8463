"""The DynamoDB data-access classes against moto: keys, conditions and pagination."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import pytest

from recaudo import auth
from recaudo.data.credentials import CredentialsRepository
from recaudo.data.ledger import DuplicateRecord, LedgerRepository
from recaudo.models.ledger import Convenio, EstadoDeuda, Persona, TipoConvenio
from tests.fakes import deuda

NOW = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.fixture
def ledger(dynamodb) -> LedgerRepository:
    repo = LedgerRepository(os.environ["LEDGER_TABLE"], dynamodb, page_limit=2)
    repo.put_persona(Persona("12345678", "Julio Cascante", "F", 1))
    return repo


@pytest.fixture
def credentials(dynamodb) -> CredentialsRepository:
    return CredentialsRepository(os.environ["CREDENTIALS_TABLE"], dynamodb)


class TestLedger:
    def test_given_interleaved_paid_debts_when_listing_pending_then_every_dynamodb_page_is_followed(
        self, ledger, dynamodb
    ):
        # Given 23 pending debts with a paid one after every pending one, read 2 items per round trip
        for i in range(23):
            ledger.put_deuda(deuda(1000 + i, date(2010 + i, 3, 31)))
            ledger.put_deuda(deuda(5000 + i, date(2010 + i, 6, 30), estado=EstadoDeuda.PAGADO))
        calls = []
        original = dynamodb.query
        dynamodb.query = lambda **kw: calls.append(kw) or original(**kw)
        try:
            # When
            pending = ledger.deudas_pendientes("12345678", "MUNI")
        finally:
            dynamodb.query = original
        # Then all 23 come back, in period order, after many short (filtered) pages
        assert [d.id_saldo for d in pending] == [1000 + i for i in range(23)]
        assert len(calls) >= 23
        assert all(c["ConsistentRead"] for c in calls)

    def test_given_rubro_and_date_filters_when_listing_then_dynamodb_applies_them(self, ledger):
        ledger.put_deuda(deuda(1, date(2026, 3, 31), rubro="13"))
        ledger.put_deuda(deuda(2, date(2026, 3, 31), rubro="17"))
        ledger.put_deuda(deuda(3, date(2026, 12, 31), rubro="13"))
        ledger.put_deuda(deuda(4, date(2026, 3, 31), rubro="13", institucion="PPT"))
        assert [d.id_saldo for d in ledger.deudas_pendientes("12345678", "MUNI", ("13",))] == [1, 3]
        assert [d.id_saldo for d in ledger.deudas_pendientes("12345678", "MUNI", (), date(2026, 6, 30))] == [1, 2]
        assert [d.id_saldo for d in ledger.deudas_pendientes("12345678", "PPT")] == [4]

    def test_given_a_stored_debt_when_read_back_then_amounts_are_exact_decimals(self, ledger):
        ledger.put_deuda(deuda(7, date(2026, 3, 31), saldo="16188.96", interes="0.01"))
        (d,) = ledger.deudas_pendientes("12345678", "MUNI")
        assert str(d.saldo) == "16188.96" and str(d.monto) == "16188.97"

    def test_given_an_existing_id_saldo_when_stored_again_then_refused_and_the_first_is_kept(self, ledger):
        ledger.put_deuda(deuda(7, date(2026, 3, 31), saldo="10.00"))
        with pytest.raises(DuplicateRecord):
            ledger.put_deuda(deuda(7, date(2026, 6, 30), saldo="99.00"))
        assert [str(d.saldo) for d in ledger.deudas_pendientes("12345678", "MUNI")] == ["10.00"]

    def test_given_an_unknown_person_when_a_debt_is_stored_then_refused(self, ledger):
        with pytest.raises(DuplicateRecord):
            ledger.put_deuda(deuda(8, date(2026, 3, 31), identificacion="nobody"))

    def test_given_convenios_when_read_then_type_rubros_and_default_come_back(self, ledger):
        ledger.put_convenio(Convenio("013", TipoConvenio.TOTAL, "basura", rubros=("13",)))
        ledger.put_convenio(Convenio("003", TipoConvenio.VENCIDO, "vencido"), predeterminado=True)
        assert ledger.get_convenio("013").rubros == ("13",)
        assert ledger.get_convenio_predeterminado(TipoConvenio.VENCIDO).codigo == "003"
        assert ledger.get_convenio_predeterminado(TipoConvenio.TOTAL) is None
        assert ledger.get_convenio("nope") is None


class TestCredentials:
    def test_given_a_new_bank_when_its_token_is_verified_then_the_bank_code_comes_back(self, credentials):
        creds = credentials.create_bank("00152", "Banco Nacional", NOW)
        key_id, secret = auth.parse_authorization(f"Token {creds.token}")
        assert credentials.verify_token(key_id, secret) == "00152"
        assert credentials.verify_token(key_id, auth.new_secret()) is None
        assert credentials.verify_token("0" * 16, secret) is None

    def test_given_a_bank_when_stored_then_no_plain_secret_is_anywhere_in_the_table(self, credentials, dynamodb):
        creds = credentials.create_bank("00152", "Banco Nacional", NOW)
        dump = str(dynamodb.scan(TableName=os.environ["CREDENTIALS_TABLE"])["Items"])
        secret = creds.token.split(".")[1]
        assert secret not in dump and creds.llave_acceso not in dump
        assert auth.hash_secret(creds.llave_acceso) in dump

    def test_given_a_revoked_token_when_verified_then_refused_while_a_rotated_one_works(self, credentials):
        creds = credentials.create_bank("00152", "Banco Nacional", NOW)
        rotated = credentials.add_token("00152", NOW)
        old_key, old_secret = creds.token.split(".")
        credentials.revoke_token(old_key)
        assert credentials.verify_token(old_key, old_secret) is None
        assert credentials.verify_token(*rotated.split(".")) == "00152"

    def test_given_an_existing_bank_code_when_created_again_then_refused(self, credentials, dynamodb):
        credentials.create_bank("00152", "Banco Nacional", NOW)
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            credentials.create_bank("00152", "Otro", NOW)

    def test_given_an_unknown_bank_when_a_token_is_added_then_refused(self, credentials, dynamodb):
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            credentials.add_token("99999", NOW)


class TestBatchPut:
    def test_given_unprocessed_items_then_they_are_retried_until_written(self, dynamodb):
        from recaudo.data.dynamo import batch_put

        # Given DynamoDB leaves part of each first batch unprocessed (as under throttling)
        original = dynamodb.batch_write_item
        leftovers = {"rounds": 0}

        def flaky(RequestItems):
            ((table, requests),) = RequestItems.items()
            leftovers["rounds"] += 1
            if leftovers["rounds"] % 2 == 1 and len(requests) > 1:
                original(RequestItems={table: requests[:1]})
                return {"UnprocessedItems": {table: requests[1:]}}
            return original(RequestItems=RequestItems)

        dynamodb.batch_write_item = flaky
        items = [{"PK": f"X#{i}", "SK": "X", "n": i} for i in range(60)]
        # When
        requests = batch_put(dynamodb, os.environ["LEDGER_TABLE"], items, sleep=lambda _s: None)
        # Then every item is there, in 3 batches each needing a retry
        dynamodb.batch_write_item = original
        assert requests == 6
        stored = [
            dynamodb.get_item(TableName=os.environ["LEDGER_TABLE"], Key={"PK": {"S": f"X#{i}"}, "SK": {"S": "X"}}).get(
                "Item"
            )
            for i in range(60)
        ]
        assert all(stored)

    def test_given_items_never_processed_then_it_fails_loudly(self, dynamodb):
        from recaudo.data.dynamo import batch_put

        dynamodb.batch_write_item = lambda RequestItems: {"UnprocessedItems": RequestItems}
        with pytest.raises(RuntimeError, match="unprocessed"):
            batch_put(
                dynamodb, os.environ["LEDGER_TABLE"], [{"PK": "A", "SK": "B"}], max_attempts=3, sleep=lambda _s: None
            )
