"""Sistema UNO ``paymentDue`` logic (``functions/cuotas/cuotas.py``) with an in-memory ``Cuotas`` port: who
may configure which school, one result per due in the order sent, the rules of the date ranges, re-posting,
writes split into transactions of at most 100 items that check membership, price and version at write time,
lost races, a price removed meanwhile, DynamoDB busy; and the read-back (``consultar``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cuotas.cuotas import CONCURRENTE, OCUPADO, configurar, consultar
from cuotas.deps import CuotasDeps

from recaudo.formats.cuotas import parse_payment_due
from recaudo.models.cuotas import (
    NO_EXISTE,
    OTRA_EMPRESA,
    SIN_DATOS,
    Ciclo,
    ClaveCuota,
    Contexto,
    Cuota,
    Ocupado,
    Pago,
    Rechazo,
    Resultado,
    UnoError,
    sin_precio,
)
from tests.conftest import NOW

EMPRESA = 10
CTX = Contexto(EMPRESA, 6498, 64)
CICLO_2017 = Ciclo(64, date(2017, 1, 1), date(2017, 12, 31))
DOCUMENTO = (Path(__file__).resolve().parents[1] / "data" / "uno_paymentDue_documento.xml").read_bytes()
PRIMER_ID = 5786419  # the document's example id


# ---- the fake port ----


class FakeCuotas:
    """The ``Cuotas`` port in memory, with ``CuotasRepository``'s observable rules: a school belongs to a
    business and a year (membership); a price configuration per article; dues by key; ids from a counter
    that never hands one out twice; ``guardar`` is one transaction that checks the membership, every
    article's price and every due's condition (absent when new, at the version read when replaced) and
    writes nothing when any fails, saying which (``Rechazo``). ``interponer`` runs another writer just
    before the next ``guardar``; ``ocupado`` makes the next calls of a method raise ``Ocupado``."""

    MAX_ACCIONES = 100  # TransactWriteItems' own limit: the real call fails beyond it

    def __init__(self) -> None:
        self.ciclos: dict[Contexto, Ciclo] = {}
        self.precios: dict[Contexto, set[int]] = {}
        self.guardadas: dict[tuple[Contexto, ClaveCuota], Cuota] = {}
        self.contador = PRIMER_ID - 1
        self.transacciones: list[list[tuple[Cuota, int | None]]] = []  # every guardar call, refused ones too
        self.acciones_por_transaccion: list[int] = []
        self.escritas = 0  # dues actually written
        self.llamadas: list[str] = []
        self.ocupado: Counter[str] = Counter()
        self._otros: list[Callable[[], object]] = []

    # set-up, as the admin commands would
    def colegio(self, ctx: Contexto = CTX, ciclo: Ciclo = CICLO_2017, articulos: Iterable[int] = ()) -> None:
        self.ciclos[ctx] = ciclo
        self.precios.setdefault(ctx, set()).update(articulos)

    def interponer(self, otro: Callable[[], object]) -> None:
        self._otros.append(otro)

    def otro_guarda(self, cuota: Cuota, ctx: Contexto = CTX) -> None:
        """Another request's write, landing between our read and our write."""
        previa = self.guardadas.get((ctx, cuota.clave))
        version = previa.version + 1 if previa else 1
        self.guardadas[(ctx, cuota.clave)] = replace(cuota, version=version)

    def _llamada(self, metodo: str) -> None:
        self.llamadas.append(metodo)
        if self.ocupado[metodo] > 0:
            self.ocupado[metodo] -= 1
            raise Ocupado(f"{metodo}: ProvisionedThroughputExceededException")

    # the port
    def ciclo_del_colegio(self, ctx: Contexto) -> Ciclo | None:
        self._llamada("ciclo_del_colegio")
        return self.ciclos.get(ctx)

    def articulos_con_precio(self, ctx: Contexto, articulos: Iterable[int]) -> set[int]:
        self._llamada("articulos_con_precio")
        return set(articulos) & self.precios.get(ctx, set())

    def cuotas(self, ctx: Contexto, claves: Iterable[ClaveCuota]) -> dict[ClaveCuota, Cuota]:
        self._llamada("cuotas")
        return {c: self.guardadas[(ctx, c)] for c in dict.fromkeys(claves) if (ctx, c) in self.guardadas}

    def todas(self, ctx: Contexto) -> list[Cuota]:
        self._llamada("todas")
        mias = [c for (k, _), c in self.guardadas.items() if k == ctx]
        return sorted(
            mias,
            key=lambda c: (
                c.clave.article_ref_id,
                c.clave.grade_ref_id,
                c.clave.term_ref_id,
                c.clave.sales_type_ref_id,
            ),
        )

    def reservar_ids(self, cantidad: int) -> list[int]:
        self._llamada("reservar_ids")
        if cantidad <= 0:
            return []
        self.contador += cantidad
        return list(range(self.contador - cantidad + 1, self.contador + 1))

    @staticmethod
    def acciones(articulos: int, cuotas: int) -> int:
        return 1 + articulos + cuotas

    def guardar(self, ctx: Contexto, cuotas: list[tuple[Cuota, int | None]], now: datetime) -> Rechazo | None:
        if self._otros:
            self._otros.pop(0)()
        self._llamada("guardar")
        articulos = {c.clave.article_ref_id for c, _ in cuotas}
        acciones = self.acciones(len(articulos), len(cuotas))
        if acciones > self.MAX_ACCIONES:
            raise ValueError(f"ValidationException: {acciones} items; TransactWriteItems admits 100")
        if len({c.clave for c, _ in cuotas}) != len(cuotas):
            raise ValueError("ValidationException: multiple operations on one item")
        assert all(c.id is not None for c, _ in cuotas), "a due is written with its id"
        self.transacciones.append(list(cuotas))
        self.acciones_por_transaccion.append(acciones)

        def cumple(clave: ClaveCuota, version: int | None) -> bool:
            previa = self.guardadas.get((ctx, clave))
            return previa is None if version is None else previa is not None and previa.version == version

        rechazo = Rechazo(
            sin_colegio=ctx not in self.ciclos,
            articulos_sin_precio=frozenset(articulos - self.precios.get(ctx, set())),
            en_conflicto=frozenset(c.clave for c, v in cuotas if not cumple(c.clave, v)),
        )
        if rechazo.sin_colegio or rechazo.articulos_sin_precio or rechazo.en_conflicto:
            return rechazo
        for cuota, version in cuotas:
            self.guardadas[(ctx, cuota.clave)] = replace(cuota, version=(version or 0) + 1)
            self.escritas += 1
        return None


@dataclass
class Metricas:
    contadas: Counter[str] = field(default_factory=Counter)

    def count(self, name: str, value: int = 1) -> None:
        self.contadas[name] += value


@pytest.fixture
def repo() -> FakeCuotas:
    fake = FakeCuotas()
    fake.colegio(articulos={3259, 3245})
    return fake


@pytest.fixture
def metricas() -> Metricas:
    return Metricas()


def deps(repo: FakeCuotas, metricas: Metricas | None = None, **kwargs: int) -> CuotasDeps:
    return CuotasDeps(cuotas=repo, metricas=metricas or Metricas(), clock=lambda: NOW, **kwargs)


def documento() -> list[Cuota]:
    """The document's payload (2 dues, 7 payments), fresh each time (configurar sets ids in the list it gets)."""
    return parse_payment_due(DOCUMENTO)


def pago(desde: str, hasta: str, price: str = "84000") -> Pago:
    return Pago(Decimal(price), Decimal("5.00"), Decimal("0"), date.fromisoformat(desde), date.fromisoformat(hasta))


def cuota(articulo: int, *pagos: Pago, grado: int = 41) -> Cuota:
    pagos = pagos or (pago("2017-01-10", "2017-02-13"), pago("2017-02-14", "2017-03-11"))
    return Cuota(ClaveCuota(articulo, grado, 905, 45), tuple(pagos))


def guardada(repo: FakeCuotas, c: Cuota, ctx: Contexto = CTX) -> Cuota | None:
    return repo.guardadas.get((ctx, c.clave))


def leida(repo: FakeCuotas, c: Cuota) -> Cuota:
    stored = guardada(repo, c)
    assert stored is not None, f"{c.clave} was not stored"
    return stored


def competir(repo: FakeCuotas, articulo: int, veces: int) -> None:
    """Another request changing the stored due of ``articulo`` (its id kept) before each of our next
    ``veces`` transactions: its i-th change ends its only payment on January 20 + i."""
    for i in range(1, veces + 1):
        fin = date(2017, 1, 20) + timedelta(days=i)
        otra = replace(cuota(articulo, pago("2017-01-10", fin.isoformat())), id=PRIMER_ID)
        repo.interponer(lambda otra=otra: repo.otro_guarda(otra))


# ---- who may configure what ----


@pytest.mark.parametrize("empresa", [11, None], ids=["another-business", "no-business-in-token"])
def test_given_a_context_of_another_business_when_configuring_then_403_and_nothing_is_read(repo, empresa):
    # Given a token of business 11 (or none) and a context naming business 10
    with pytest.raises(UnoError) as info:
        configurar(empresa, CTX, documento(), deps(repo))
    # Then 403, before touching the store
    assert (info.value.status, info.value.mensaje) == (403, OTRA_EMPRESA)
    assert repo.llamadas == []


@pytest.mark.parametrize(
    "ctx",
    [Contexto(EMPRESA, 9999, 64), Contexto(EMPRESA, 6498, 65)],
    ids=["school-not-in-business", "school-not-in-year"],
)
def test_given_a_school_not_in_the_business_or_year_when_configuring_then_404_and_nothing_written(repo, ctx):
    with pytest.raises(UnoError) as info:
        configurar(EMPRESA, ctx, documento(), deps(repo))
    assert (info.value.status, info.value.mensaje) == (404, "No existe la entidad con el id especificado.")
    assert repo.transacciones == []


def test_given_dynamodb_busy_on_the_first_read_when_configuring_then_503_saying_nothing_was_stored(repo):
    repo.ocupado["ciclo_del_colegio"] = 1
    with pytest.raises(UnoError) as info:
        configurar(EMPRESA, CTX, documento(), deps(repo))
    assert info.value.status == 503
    assert "nada se guardó" in info.value.mensaje
    assert repo.transacciones == []


# ---- the document's payload, and re-posting it ----


def test_given_the_documents_payload_when_configured_then_two_200_with_distinct_ids_and_both_stored(repo, metricas):
    # Given the school, its year and both articles priced / When the document's 2 dues are posted
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo, metricas))
    # Then two 200 results, in order, with fresh distinct ids, no message
    assert resultados == [Resultado(200, id=PRIMER_ID), Resultado(200, id=PRIMER_ID + 1)]
    # And both stored as sent, at version 1, in one transaction
    for enviada, r in zip(documento(), resultados, strict=True):
        assert guardada(repo, enviada) == replace(enviada, id=r.id, version=1)
    assert len(repo.transacciones) == 1
    assert metricas.contadas == Counter({"CuotasGuardadas": 2, "CuotasRechazadas": 0})


def test_given_the_dues_stored_when_posted_again_unchanged_then_the_same_ids_and_nothing_written(repo, metricas):
    primeros = configurar(EMPRESA, CTX, documento(), deps(repo))
    transacciones, contador = len(repo.transacciones), repo.contador
    # When the very same payload is posted again (a retry)
    otra_vez = configurar(EMPRESA, CTX, documento(), deps(repo, metricas))
    # Then the same ids, no write, no id reserved, versions unchanged
    assert otra_vez == primeros
    assert (len(repo.transacciones), repo.contador) == (transacciones, contador)
    assert {c.version for c in repo.guardadas.values()} == {1}
    assert metricas.contadas["CuotasGuardadas"] == 2


def test_given_a_stored_due_when_posted_with_other_payments_then_it_keeps_its_id_and_its_version_moves(repo):
    primeros = configurar(EMPRESA, CTX, documento(), deps(repo))
    # Given the first due's payments corrected (one price changed)
    corregidas = documento()
    p0 = corregidas[0].pagos
    corregidas[0] = replace(corregidas[0], pagos=(replace(p0[0], price=Decimal("85000")), *p0[1:]))
    # When posted again
    resultados = configurar(EMPRESA, CTX, corregidas, deps(repo))
    # Then the same ids; the first replaced (version 2, new price), the second untouched
    assert resultados == primeros
    assert guardada(repo, corregidas[0]) == replace(corregidas[0], id=PRIMER_ID, version=2)
    assert leida(repo, corregidas[1]).version == 1
    assert repo.transacciones[-1] == [(replace(corregidas[0], id=PRIMER_ID), 1)]


# ---- per due: price configuration, rules, repeats ----


def test_given_an_article_without_price_configuration_when_configured_then_that_due_404_naming_it_and_others_stored(
    repo,
):
    # Given article 3245 without colegio_articulo_precio
    repo.precios[CTX] = {3259}
    # When the document's payload is posted
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo))
    # Then the first stored, the second 404 naming its article, with no id, not stored
    assert resultados[0] == Resultado(200, id=PRIMER_ID)
    assert resultados[1] == Resultado(404, mensaje=sin_precio(3245))
    assert "artículo 3245" in (resultados[1].mensaje or "")
    assert guardada(repo, documento()[1]) is None
    assert repo.contador == PRIMER_ID  # only one id reserved


@pytest.mark.parametrize(
    ("pagos", "ciclo", "mensaje"),
    [
        pytest.param(
            (pago("2017-02-13", "2017-01-10"),),
            CICLO_2017,
            "payment 1: startDate (2017-02-13) es posterior a endDate (2017-01-10).",
            id="start-after-end",
        ),
        pytest.param(
            (pago("2017-01-10", "2017-02-13"), pago("2017-02-14", "2017-03-11"), pago("2017-03-12", "2017-03-01")),
            CICLO_2017,
            "payment 3: startDate (2017-03-12) es posterior a endDate (2017-03-01).",
            id="start-after-end-third",
        ),
        pytest.param(
            (pago("2017-01-10", "2017-02-13"), pago("2017-02-15", "2017-03-11")),
            CICLO_2017,
            "Los rangos de fechas no son contiguos: después de 2017-01-10..2017-02-13 el siguiente debe empezar "
            "el 2017-02-14, no el 2017-02-15.",
            id="gap",
        ),
        pytest.param(
            (pago("2017-01-10", "2017-02-13"), pago("2017-02-13", "2017-03-11")),
            CICLO_2017,
            "Los rangos de fechas se superponen: 2017-01-10..2017-02-13 y 2017-02-13..2017-03-11.",
            id="overlap-one-day",
        ),
        pytest.param(
            (pago("2017-01-10", "2017-03-31"), pago("2017-02-01", "2017-02-28")),
            CICLO_2017,
            "Los rangos de fechas se superponen: 2017-01-10..2017-03-31 y 2017-02-01..2017-02-28.",
            id="overlap-contained",
        ),
        pytest.param(
            (pago("2017-01-10", "2017-02-13"), pago("2017-01-10", "2017-02-13")),
            CICLO_2017,
            "Los rangos de fechas se superponen: 2017-01-10..2017-02-13 y 2017-01-10..2017-02-13.",
            id="same-range-twice",
        ),
        pytest.param(
            (pago("2017-01-10", "2017-02-13"), pago("2017-02-14", "2017-03-11")),
            Ciclo(64, date(2017, 1, 15), date(2017, 12, 31)),
            "El rango 2017-01-10..2017-02-13 empieza antes del ciclo escolar 64 (2017-01-15).",
            id="before-the-year",
        ),
        pytest.param(
            (pago("2017-02-14", "2017-03-11"), pago("2017-01-10", "2017-02-13")),
            Ciclo(64, date(2017, 1, 1), date(2017, 3, 1)),
            "El rango 2017-02-14..2017-03-11 termina después del ciclo escolar 64 (2017-03-01).",
            id="after-the-year",
        ),
        pytest.param(
            (pago("2016-12-31", "2017-01-31"),),
            Ciclo(64, date(2017, 1, 1), None),
            "El rango 2016-12-31..2017-01-31 empieza antes del ciclo escolar 64 (2017-01-01).",
            id="before-a-year-with-only-a-start",
        ),
        pytest.param(
            (pago("2017-12-01", "2018-01-01"),),
            Ciclo(64, None, date(2017, 12, 31)),
            "El rango 2017-12-01..2018-01-01 termina después del ciclo escolar 64 (2017-12-31).",
            id="after-a-year-with-only-an-end",
        ),
    ],
)
def test_given_a_due_breaking_a_date_rule_when_configured_then_that_due_400_with_its_message_and_others_stored(
    repo, pagos, ciclo, mensaje
):
    # Given the school year's dates, and a due whose ranges break one rule between two good ones
    repo.colegio(ciclo=ciclo, articulos={1, 2, 3})
    buenas = (pago("2017-02-01", "2017-02-10"), pago("2017-02-11", "2017-02-28"))
    enviadas = [cuota(1, *buenas), cuota(2, *pagos), cuota(3, *buenas)]
    # When configured
    resultados = configurar(EMPRESA, CTX, list(enviadas), deps(repo))
    # Then that due 400 with the rule's message and no id; the others stored
    assert resultados[1] == Resultado(400, mensaje=mensaje)
    assert [r.status for r in resultados] == [200, 400, 200]
    assert guardada(repo, enviadas[1]) is None
    assert guardada(repo, enviadas[0]) is not None and guardada(repo, enviadas[2]) is not None


def test_given_payments_out_of_order_but_contiguous_when_configured_then_stored_as_sent(repo):
    # Given the document's four ranges sent in another order
    desordenados = (
        pago("2017-03-12", "2017-04-12"),
        pago("2017-01-10", "2017-02-13"),
        pago("2017-04-13", "2017-05-13"),
        pago("2017-02-14", "2017-03-11"),
    )
    enviada = cuota(3245, *desordenados)
    # When configured / Then accepted, the payments kept as sent
    assert configurar(EMPRESA, CTX, [enviada], deps(repo)) == [Resultado(200, id=PRIMER_ID)]
    assert leida(repo, enviada).pagos == desordenados


def test_given_ranges_exactly_on_the_school_years_bounds_when_configured_then_accepted(repo):
    repo.colegio(ciclo=Ciclo(64, date(2017, 1, 10), date(2017, 5, 13)))
    assert [r.status for r in configurar(EMPRESA, CTX, documento(), deps(repo))] == [200, 200]


def test_given_a_school_year_without_dates_when_configuring_any_years_ranges_then_no_bound_applies(repo):
    # Given a school year created without --inicio/--fin
    repo.colegio(ciclo=Ciclo(64))
    lejanas = cuota(3259, pago("1990-01-01", "1999-12-31"), pago("2000-01-01", "2099-12-31"))
    # When configured / Then accepted
    assert configurar(EMPRESA, CTX, [lejanas], deps(repo)) == [Resultado(200, id=PRIMER_ID)]


def test_given_a_due_repeated_in_the_same_request_when_configured_then_the_later_409_and_the_first_kept(repo):
    # Given due 3 repeating due 1's key (with other payments)
    primera = cuota(3259)
    repetida = cuota(3259, pago("2017-01-10", "2017-12-31"))
    enviadas = [primera, cuota(3245), repetida]
    # When configured
    resultados = configurar(EMPRESA, CTX, enviadas, deps(repo))
    # Then the first and second stored, the third 409 naming the first, no id; the first's payments kept
    assert [r.status for r in resultados] == [200, 200, 409]
    assert resultados[2].id is None
    assert "del due 1 " in (resultados[2].mensaje or "")
    assert leida(repo, primera).pagos == primera.pagos


def test_given_a_refused_due_repeated_later_in_the_request_when_configured_then_the_409_does_not_claim_it_was_stored(
    repo,
):
    # Given due 1 breaking a rule (a gap), and due 2 repeating its key with good ranges
    mala = cuota(3259, pago("2017-01-10", "2017-01-31"), pago("2017-02-05", "2017-02-28"))
    resultados = configurar(EMPRESA, CTX, [mala, cuota(3259)], deps(repo))
    # Then due 1 is 400 and nothing is stored; the 409 must not tell the client the first was saved
    assert resultados[0].status == 400
    assert repo.guardadas == {}
    assert "se guardó" not in (resultados[1].mensaje or "")


# ---- transactions of at most 100 items ----


def test_given_more_dues_than_one_transaction_holds_when_configured_then_several_transactions_and_all_stored(
    repo, metricas
):
    # Given 120 dues over 120 priced articles (1 membership + 1 price check + 1 put each: 49 per transaction)
    repo.colegio(articulos=range(1, 121))
    enviadas = [cuota(a) for a in range(1, 121)]
    # When configured
    resultados = configurar(EMPRESA, CTX, list(enviadas), deps(repo, metricas))
    # Then every due stored with its own id, in the order sent
    assert [r.status for r in resultados] == [200] * 120
    assert [r.id for r in resultados] == list(range(PRIMER_ID, PRIMER_ID + 120))
    assert all(guardada(repo, c) is not None for c in enviadas)
    # And written in more than one transaction, none over 100 items
    assert len(repo.transacciones) > 1
    assert all(n <= 100 for n in repo.acciones_por_transaccion)
    assert repo.acciones_por_transaccion == [99, 99, 45]
    assert metricas.contadas["CuotasGuardadas"] == 120


def test_given_many_dues_of_one_article_when_configured_then_transactions_are_filled_up_to_100_items(repo):
    # Given 150 dues of one article (grades 1..150): 1 + 1 + 98 = 100 items per transaction
    enviadas = [cuota(3259, grado=g) for g in range(1, 151)]
    resultados = configurar(EMPRESA, CTX, enviadas, deps(repo))
    assert [r.status for r in resultados] == [200] * 150
    assert [len(t) for t in repo.transacciones] == [98, 52]
    assert repo.acciones_por_transaccion == [100, 54]


def test_given_a_smaller_transaction_limit_when_configured_then_it_is_honoured(repo):
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo, max_acciones=3))
    assert [r.status for r in resultados] == [200, 200]
    assert repo.acciones_por_transaccion == [3, 3]


# ---- between our read and our write ----


def test_given_another_request_creates_the_same_due_meanwhile_when_configured_then_its_id_is_answered(repo):
    # Given another request storing the document's first due (same payments, its own id) just before our write
    suya = replace(documento()[0], id=777)
    repo.interponer(lambda: repo.otro_guarda(suya))
    # When configured
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo))
    # Then our transaction lost the race, the due was re-read: the other writer's id, one due stored once
    assert resultados[0] == Resultado(200, id=777)
    assert resultados[1].status == 200
    assert guardada(repo, suya) == replace(suya, version=1)
    assert len(repo.transacciones) == 2  # the cancelled one, then the second due alone
    assert repo.transacciones[1] == [(replace(documento()[1], id=resultados[1].id), None)]


def test_given_another_request_creates_the_due_with_other_payments_meanwhile_when_configured_then_ours_replace_them_under_its_id(
    repo,
):
    # Given another request storing the first due with other payments just before our write
    otra = replace(documento()[0], pagos=(pago("2017-01-10", "2017-01-31"),), id=777)
    repo.interponer(lambda: repo.otro_guarda(otra))
    # When configured
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo))
    # Then re-read and written over it (version 2), keeping the other writer's id: one due, one id
    assert [r.status for r in resultados] == [200, 200]
    assert resultados[0].id == 777
    assert guardada(repo, otra) == replace(documento()[0], id=777, version=2)


def test_given_another_request_changing_the_due_at_every_attempt_when_configured_then_409_after_the_rounds(repo):
    # Given a stored due, and another request that changes it again before each of our writes
    configurar(EMPRESA, CTX, [cuota(3259)], deps(repo))
    nuestra = cuota(3259, pago("2017-01-10", "2017-06-30"))
    competir(repo, 3259, veces=3)
    # When configured with deps' 3 rounds
    resultados = configurar(EMPRESA, CTX, [nuestra], deps(repo, rondas=3))
    # Then 409 asking to resend, no id; the other writer's last version stands
    assert resultados == [Resultado(409, mensaje=CONCURRENTE)]
    assert len(repo.transacciones) == 1 + 3
    assert leida(repo, nuestra).pagos == (pago("2017-01-10", "2017-01-23"),)


def test_given_a_race_lost_twice_when_configured_with_three_rounds_then_the_third_attempt_stores_it(repo):
    configurar(EMPRESA, CTX, [cuota(3259)], deps(repo))
    competir(repo, 3259, veces=2)
    nuestra = cuota(3259, pago("2017-01-10", "2017-06-30"))
    assert configurar(EMPRESA, CTX, [nuestra], deps(repo, rondas=3)) == [Resultado(200, id=PRIMER_ID)]
    assert guardada(repo, nuestra) == replace(nuestra, id=PRIMER_ID, version=4)


def test_given_a_due_sharing_a_transaction_with_one_that_keeps_losing_when_configured_then_it_is_still_stored(repo):
    # Given due 3259 stored, and another request changing it before every one of our writes
    configurar(EMPRESA, CTX, [cuota(3259)], deps(repo))
    competir(repo, 3259, veces=20)  # before every one of our transactions, however they are grouped
    # When it is posted with a new due 3245 nobody else touches
    resultados = configurar(EMPRESA, CTX, [cuota(3259, pago("2017-01-10", "2017-06-30")), cuota(3245)], deps(repo))
    # Then the contested one 409, the innocent one stored
    assert resultados[0].status == 409
    assert resultados[1].status == 200
    assert guardada(repo, cuota(3245)) is not None


def test_given_a_price_configuration_removed_between_read_and_write_when_configured_then_that_due_404(repo):
    # Given article 3245's price configuration removed just before our write
    repo.interponer(lambda: repo.precios[CTX].discard(3245))
    # When the document's payload is posted
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo))
    # Then that due 404 naming the article, not stored; the other written in a second transaction
    assert resultados[0] == Resultado(200, id=PRIMER_ID)
    assert resultados[1] == Resultado(404, mensaje=sin_precio(3245))
    assert guardada(repo, documento()[1]) is None
    assert [len(t) for t in repo.transacciones] == [2, 1]


def test_given_the_school_leaving_the_year_between_read_and_write_when_configured_then_those_dues_404(repo):
    repo.interponer(lambda: repo.ciclos.pop(CTX))
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo))
    assert resultados == [Resultado(404, mensaje=NO_EXISTE)] * 2
    assert repo.guardadas == {}


# ---- DynamoDB busy ----


def test_given_dynamodb_busy_on_one_transaction_when_configured_then_its_dues_503_resend_safe_and_others_stored(
    repo, metricas
):
    # Given one due per transaction, the first transaction throttled
    repo.ocupado["guardar"] = 1
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo, metricas, max_acciones=3))
    # Then the first due 503 saying resending is safe, not stored; the second stored
    assert resultados[0] == Resultado(503, mensaje=OCUPADO)
    assert "Reenviarlo es seguro" in (resultados[0].mensaje or "")
    assert guardada(repo, documento()[0]) is None
    assert resultados[1] == Resultado(200, id=PRIMER_ID + 1)
    assert metricas.contadas == Counter({"CuotasGuardadas": 1, "CuotasRechazadas": 1})
    # And resending the whole request is safe: the first stored, the second the same id, written once
    otra_vez = configurar(EMPRESA, CTX, documento(), deps(repo, max_acciones=3))
    assert [r.status for r in otra_vez] == [200, 200]
    assert otra_vez[1].id == PRIMER_ID + 1
    assert repo.escritas == 2


@pytest.mark.parametrize("metodo", ["articulos_con_precio", "cuotas", "reservar_ids"])
def test_given_dynamodb_busy_reading_prices_dues_or_ids_when_configured_then_every_due_503_and_nothing_written(
    repo, metodo
):
    repo.ocupado[metodo] = 1
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo))
    assert resultados == [Resultado(503, mensaje=OCUPADO)] * 2
    assert repo.transacciones == []


def test_given_dynamodb_busy_when_the_lost_race_is_re_read_then_that_due_503(repo):
    suya = replace(documento()[0], pagos=(pago("2017-01-10", "2017-01-31"),), id=777)

    def otro_y_ocupado() -> None:
        repo.otro_guarda(suya)
        repo.ocupado["cuotas"] = 1  # the re-read after the cancelled transaction

    repo.interponer(otro_y_ocupado)
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo))
    assert resultados[0] == Resultado(503, mensaje=OCUPADO)
    assert resultados[1].status == 200
    assert guardada(repo, suya) == replace(suya, version=1)  # the other writer's stands


def test_given_a_rule_refused_due_and_a_stored_one_when_configured_then_metrics_count_both(repo, metricas):
    resultados = configurar(
        EMPRESA, CTX, [cuota(3259), cuota(3245, pago("2017-02-13", "2017-01-10"))], deps(repo, metricas)
    )
    assert [r.status for r in resultados] == [200, 400]
    assert metricas.contadas == Counter({"CuotasGuardadas": 1, "CuotasRechazadas": 1})


# ---- consultar ----


@pytest.mark.parametrize("empresa", [11, None])
def test_given_a_context_of_another_business_when_reading_then_403(repo, empresa):
    with pytest.raises(UnoError) as info:
        consultar(empresa, CTX, deps(repo))
    assert (info.value.status, info.value.mensaje) == (403, OTRA_EMPRESA)
    assert repo.llamadas == []


def test_given_a_school_not_in_the_business_and_year_when_reading_then_404_no_entity(repo):
    with pytest.raises(UnoError) as info:
        consultar(EMPRESA, Contexto(EMPRESA, 6498, 99), deps(repo))
    assert (info.value.status, info.value.mensaje) == (404, NO_EXISTE)


def test_given_a_school_without_dues_when_reading_then_404_no_data(repo):
    with pytest.raises(UnoError) as info:
        consultar(EMPRESA, CTX, deps(repo))
    assert (info.value.status, info.value.mensaje) == (404, "No se encontraron datos con los parámetros especificados.")
    assert info.value.mensaje == SIN_DATOS


def test_given_configured_dues_when_reading_then_they_come_back_with_their_ids_and_versions(repo):
    # Given the document configured, and another school's dues
    otro = Contexto(EMPRESA, 7000, 64)
    repo.colegio(ctx=otro, articulos={3259})
    configurar(EMPRESA, otro, [cuota(3259)], deps(repo))
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo))
    # When read
    leidas = consultar(EMPRESA, CTX, deps(repo))
    # Then only this school's, each with its id and version (in the port's key order)
    assert leidas == [
        replace(documento()[1], id=resultados[1].id, version=1),
        replace(documento()[0], id=resultados[0].id, version=1),
    ]


@pytest.mark.parametrize("metodo", ["ciclo_del_colegio", "todas"])
def test_given_dynamodb_busy_when_reading_then_503(repo, metodo):
    configurar(EMPRESA, CTX, documento(), deps(repo))
    repo.ocupado[metodo] = 1
    with pytest.raises(UnoError) as info:
        consultar(EMPRESA, CTX, deps(repo))
    assert info.value.status == 503


def test_given_transactions_cancelled_for_a_reason_naming_no_item_when_configured_then_409_after_the_rounds(
    repo, monkeypatch
):
    # Given every write cancelled with no item named (as a conflict with another transaction can be)
    llamadas: list[int] = []

    def cancelada(ctx: Contexto, cuotas: list[tuple[Cuota, int | None]], now: datetime) -> Rechazo:
        llamadas.append(len(cuotas))
        return Rechazo()

    monkeypatch.setattr(repo, "guardar", cancelada)
    # When the document's dues are configured with 3 rounds
    resultados = configurar(EMPRESA, CTX, documento(), deps(repo, rondas=3))
    # Then it ends: each due 409 (resend), after exactly 3 attempts, nothing stored
    assert [(r.status, r.id, r.mensaje) for r in resultados] == [(409, None, CONCURRENTE)] * 2
    assert llamadas == [2, 2, 2]
    assert repo.guardadas == {}
