"""Cobranzas: where an integrator's hash travels (form or Authorization: Bearer, never the URL), and
its rotation and revocation by the operator (``python -m ops.admin``), under moto."""

from __future__ import annotations

import importlib.util
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ops import admin
from recaudo.data.integradores import CambioConcurrente, IntegradoresRepository
from recaudo.rest import HASH_EN_URL
from tests.conftest import NOW
from tests.helpers import rest_event
from tests.integration.cobranzas_harness import CobranzasHarness, Reply, bearer, build

ROW = "500;Ana Pérez;3001234567;6011234;ana@example.co;1;Cuota;10.00\n"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def h(aws, monkeypatch) -> CobranzasHarness:
    return build(NOW, monkeypatch)


def cli(capsys, *argv: str) -> dict:
    assert admin.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def repo_at(h: CobranzasHarness, when: datetime) -> IntegradoresRepository:
    """The integrators' repository reading the clock at ``when``."""
    return IntegradoresRepository(os.environ["CREDENTIALS_TABLE"], h.ddb, clock=lambda: when)


def export(h: CobranzasHarness, hash_: str) -> Reply:
    return h.call("exportar_csv", h.get("/cobranzas/exportar/csv", hash_=hash_, periodo="*"))


# ---- where the hash travels ----

GETS = [
    ("exportar_csv", "/cobranzas/exportar/csv"),
    ("descargar_csv", "/cobranzas/descargar/csv"),
    ("importar_reporte", "/cobranzas/importar/reporte"),
]
POSTS = [*GETS, ("importar_csv", "/cobranzas/importar/csv"), ("importar_url", "/cobranzas/importar/url")]


class TestHashInTheUrl:
    @pytest.mark.parametrize(("module", "path"), GETS)
    @pytest.mark.parametrize("name", ["hash", "HASH", "Hash"])
    def test_given_a_get_with_the_hash_in_the_query_string_then_400_saying_where_to_send_it(
        self, h, module, path, name
    ):
        # Given the right hash, but in the URL
        reply = h.call(module, rest_event("GET", path, query={name: h.hash, "importacion": "x"}))
        # Then refused, and the reply says where it goes instead
        assert (reply.status, reply.body) == (400, f"ERROR: {HASH_EN_URL}")
        assert "Authorization: Bearer" in reply.body and "campo hash del formulario" in reply.body

    @pytest.mark.parametrize(("module", "path"), POSTS)
    def test_given_a_post_with_the_hash_in_the_query_string_then_400_even_with_the_form_hash(self, h, module, path):
        from urllib.parse import urlencode

        event = rest_event(
            "POST",
            path,
            query={"hash": h.hash},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode({"hash": h.hash, "importacion": "x"}),
        )
        reply = h.call(module, event)
        assert (reply.status, reply.body) == (400, f"ERROR: {HASH_EN_URL}")
        assert "x-recaudo-importacion" not in reply.headers  # nothing recorded

    def test_given_the_hash_in_the_query_string_of_an_import_then_nothing_is_imported(self, h):
        reply = h.importar(ROW.encode(), query=f"hash={h.hash}")
        assert reply.status == 400 and h.filas(periodo="*") == []


class TestBearerHeader:
    @pytest.mark.parametrize("module", ["exportar_csv", "descargar_csv"])
    def test_given_a_get_with_authorization_bearer_then_served(self, h, module):
        h.importar(ROW.encode())
        reply = h.exportar(module=module)  # GET: the harness sends Authorization: Bearer
        assert reply.status == 200 and "500;Ana Pérez" in reply.body

    def test_given_the_report_by_get_with_the_header_then_served(self, h):
        imported = h.importar(ROW.encode())
        reply = h.call(
            "importar_reporte",
            h.get("/cobranzas/importar/reporte", importacion=imported.headers["x-recaudo-importacion"]),
        )
        assert (reply.status, reply.body.splitlines()[0]) == (200, imported.body)

    @pytest.mark.parametrize(
        "value",
        ["Bearer {h}", "bearer {h}", "BEARER  {h}", "Bearer {h} "],
        ids=["exact", "lower", "two spaces", "trail"],
    )
    def test_given_the_scheme_in_any_case_then_accepted(self, h, value):
        event = rest_event("GET", "/cobranzas/exportar/csv", headers={"authorization": value.format(h=h.hash)})
        assert h.call("exportar_csv", event).status == 200

    @pytest.mark.parametrize("value", ["Token {h}", "{h}", "Bearer", "Bearer {h} {h}", "Basic {h}"])
    def test_given_a_malformed_authorization_then_401_naming_the_expected_form(self, h, value):
        event = rest_event("GET", "/cobranzas/exportar/csv", headers={"Authorization": value.format(h=h.hash)})
        reply = h.call("exportar_csv", event)
        assert (reply.status, reply.body) == (
            401,
            "ERROR: encabezado Authorization inválido: se espera «Bearer <hash>»",
        )

    def test_given_a_get_without_any_hash_then_401_saying_where_to_send_it(self, h):
        reply = h.call("exportar_csv", h.get("/cobranzas/exportar/csv", hash_=None))
        assert reply.status == 401 and "Authorization: Bearer" in reply.body

    def test_given_a_post_with_the_header_instead_of_the_form_field_then_accepted(self, h):
        event = rest_event("POST", "/cobranzas/importar/url", headers=bearer(h.hash))
        reply = h.call("importar_url", event)
        assert reply.status == 200 and reply.body.startswith("OK: ")

    def test_given_an_import_with_the_header_and_no_form_hash_then_imported(self, h):
        import base64

        from tests.integration.cobranzas_harness import multipart

        content_type, body = multipart({}, {"file": ("a.csv", ROW.encode())})
        event = rest_event("POST", "/cobranzas/importar/csv", headers={"Content-Type": content_type} | bearer(h.hash))
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        assert h.call("importar_csv", event).body == "OK: 202611 - 1 registros importados"

    def test_given_the_form_and_the_header_disagreeing_then_400(self, h):
        from urllib.parse import urlencode

        headers = {"Content-Type": "application/x-www-form-urlencoded"} | bearer(h.hash + "x")
        event = rest_event("POST", "/cobranzas/exportar/csv", headers=headers, body=urlencode({"hash": h.hash}))
        reply = h.call("exportar_csv", event)
        assert reply.status == 400 and "no coinciden" in reply.body

    def test_given_the_cobranzas_openapi_then_the_hash_is_a_form_field_or_a_bearer_header_never_a_query(self):
        spec = importlib.util.spec_from_file_location("openapi_gen", ROOT / "scripts" / "openapi.py")
        generator = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(generator)
        doc = generator.build_cobranzas()
        scheme = doc["components"]["securitySchemes"]["hashIntegrador"]
        assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
        for path, operations in doc["paths"].items():
            for method, operation in operations.items():
                assert all(p["name"] != "hash" for p in operation.get("parameters", [])), (path, method)
                assert {"hashIntegrador": []} in operation["security"], (path, method)
                if method == "post":
                    ref = json.dumps(operation["requestBody"]).split("#/components/schemas/")[1].split('"')[0]
                    assert "hash" in doc["components"]["schemas"][ref]["properties"], path
        body = doc["paths"]["/cobranzas/importar/csv"]["post"]["requestBody"]["content"]["multipart/form-data"]
        ref = body["schema"]["$ref"].rsplit("/", 1)[1]
        assert {"hash", "file"} <= doc["components"]["schemas"][ref]["properties"].keys()


# ---- rotation and revocation ----


class TestRotation:
    def test_given_a_rotation_with_grace_then_both_hashes_work_until_it_ends_and_then_only_the_new(self, h, capsys):
        # Given the integrator's hash, When the operator rotates it with 24 h of grace
        out = cli(capsys, "rotate-integrador", "--id", "club", "--gracia-horas", "24")
        # Then a new hash is printed once, and stored only as a digest
        nuevo = out["hash"]
        assert nuevo != h.hash and nuevo not in str(h.ddb.scan(TableName=os.environ["CREDENTIALS_TABLE"]))
        hasta = datetime.fromisoformat(out["anteriorValidoHasta"])
        # the old one still opens during the grace period, and not from its end on
        assert repo_at(h, hasta - timedelta(seconds=1)).autenticar(h.hash) is not None
        assert repo_at(h, hasta).autenticar(h.hash) is None
        assert repo_at(h, hasta + timedelta(days=30)).autenticar(nuevo) is not None
        # and the endpoints take the new one now
        assert export(h, nuevo).status == 200

    def test_given_a_rotation_without_grace_then_the_old_hash_stops_at_once(self, h, capsys):
        out = cli(capsys, "rotate-integrador", "--id", "club", "--gracia-horas", "0")
        assert out["anteriorValidoHasta"] is None and out["hashesTerminados"] == 1
        assert export(h, h.hash).status == 401 and export(h, out["hash"]).status == 200

    def test_given_a_second_rotation_during_the_grace_then_the_oldest_hash_stops_at_once(self, h, capsys):
        segundo = cli(capsys, "rotate-integrador", "--id", "club")["hash"]
        out = cli(capsys, "rotate-integrador", "--id", "club", "--gracia-horas", "1")
        soon = datetime.now(UTC) + timedelta(minutes=5)
        assert repo_at(h, soon).autenticar(h.hash) is None  # the first: ended now
        assert repo_at(h, soon).autenticar(segundo) is not None  # the second: its hour of grace
        assert repo_at(h, soon).autenticar(out["hash"]) is not None
        assert out["hashesTerminados"] == 1

    def test_given_a_grace_period_out_of_bounds_then_refused_and_nothing_changes(self, h, capsys):
        with pytest.raises(SystemExit, match="entre 0 y 720"):
            admin.main(["rotate-integrador", "--id", "club", "--gracia-horas", "721"])
        assert export(h, h.hash).status == 200

    def test_given_an_unknown_integrator_then_the_cli_says_so(self, h):
        with pytest.raises(SystemExit, match="no existe el integrador nadie"):
            admin.main(["rotate-integrador", "--id", "nadie"])
        with pytest.raises(SystemExit, match="no existe el integrador nadie"):
            admin.main(["revoke-integrador", "--id", "nadie"])

    def test_given_a_concurrent_change_between_reading_and_writing_then_nothing_is_written(self, h):
        # Given a rotation that reads the integrator, and another one that commits meanwhile
        table = os.environ["CREDENTIALS_TABLE"]
        other = IntegradoresRepository(table, h.ddb)

        class Racing(IntegradoresRepository):
            def _hashes_activos(self, integrador_id):
                found = super()._hashes_activos(integrador_id)
                self.ganador = other.rotar(integrador_id, NOW, 0)
                return found

        racing = Racing(table, h.ddb)
        # When the first one writes, Then its transaction is refused whole
        with pytest.raises(CambioConcurrente):
            racing.rotar("club", NOW, 3600)
        # and the state is the winner's: only its hash opens
        assert other.autenticar(h.hash) is None and other.autenticar(racing.ganador.hash) is not None
        assert len([i for i in h.ddb.scan(TableName=table)["Items"] if i["PK"]["S"].startswith("HASHINTEG#")]) == 2


class TestRevocation:
    def test_given_a_revocation_then_every_hash_stops_and_the_integrator_is_inactive(self, h, capsys):
        # Given a hash in its grace period and a current one
        nuevo = cli(capsys, "rotate-integrador", "--id", "club", "--gracia-horas", "24")["hash"]
        # When the integrator is revoked
        out = cli(capsys, "revoke-integrador", "--id", "club")
        # Then both stop at once, every endpoint says 401, and its record is inactive (S3 drops refused)
        assert (out["estado"], out["hashesTerminados"]) == ("REVOCADO", 2)
        for hash_ in (h.hash, nuevo):
            assert export(h, hash_).status == 401
            assert h.importar(ROW.encode(), hash_=hash_).status == 401
        assert h.deps.integradores.get("club").activo is False
        items = h.ddb.scan(TableName=os.environ["CREDENTIALS_TABLE"])["Items"]
        hashes = [i for i in items if i["PK"]["S"].startswith("HASHINTEG#")]
        assert hashes and all(i["activo"] == {"BOOL": False} for i in hashes)

    def test_given_a_revoked_integrator_when_rotated_without_reactivar_then_refused(self, h, capsys):
        cli(capsys, "revoke-integrador", "--id", "club")
        with pytest.raises(SystemExit, match="--reactivar"):
            admin.main(["rotate-integrador", "--id", "club"])
        assert h.deps.integradores.get("club").activo is False

    def test_given_a_revoked_integrator_when_rotated_with_reactivar_then_only_the_new_hash_opens(self, h, capsys):
        cli(capsys, "revoke-integrador", "--id", "club")
        out = cli(capsys, "rotate-integrador", "--id", "club", "--reactivar")
        # Then it is active again with its new hash alone: no grace for a revoked hash
        assert out["reactivado"] is True and out["anteriorValidoHasta"] is None
        assert h.deps.integradores.get("club").activo is True
        assert export(h, out["hash"]).status == 200 and export(h, h.hash).status == 401
        assert h.importar(ROW.encode(), hash_=out["hash"]).body == "OK: 202611 - 1 registros importados"
