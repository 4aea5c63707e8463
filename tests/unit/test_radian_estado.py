"""RADIAN: the invoice's badges derived from its events as DIAN's platform does (a set, not one
state), with the events ordered by date and then numero as an integer, and one event per CUDE."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from recaudo.models.radian import Evento, Insignia, insignias, ordenados

FE, TV, DISP, END, LIM, PAG, PROT, TRANS = (
    Insignia.FACTURA_ELECTRONICA,
    Insignia.TITULO_VALOR,
    Insignia.DISPONIBILIZADA,
    Insignia.ENDOSADA,
    Insignia.LIMITADA,
    Insignia.PAGADA,
    Insignia.PROTESTADA,
    Insignia.TRANSFERIDA,
)
T0 = datetime(2026, 11, 2, 9, 0)


def eventos(*codigos: str) -> list[Evento]:
    """One event per code, a minute apart, numbered 1, 2, 3 …"""
    return [Evento(f"cude-{i}-{c}", c, i + 1, T0 + timedelta(minutes=i)) for i, c in enumerate(codigos)]


@pytest.mark.parametrize(
    ("codigos", "esperadas"),
    [
        ((), {FE}),
        (("030",), {FE}),
        (("030", "032"), {FE}),
        (("030", "032", "033"), {FE, TV}),
        (("030", "032", "034"), {FE, TV}),  # tacit acceptance stands in for express
        (("030", "031", "032", "033"), {FE}),  # a reclamo blocks título valor
        (("030", "032", "033", "036"), {TV, DISP}),  # disponibilizada: no longer "Factura Electrónica"
        (("030", "032", "033", "036", "037"), {TV, DISP, END}),
        (("030", "032", "033", "036", "038", "040"), {TV, DISP}),  # 040 cancels the endoso en garantía
        (("030", "032", "033", "036", "039", "040"), {TV, DISP}),  # … or en procuración
        (("030", "032", "033", "036", "037", "040"), {TV, DISP, END}),  # never an endoso en propiedad
        (("030", "032", "033", "036", "038", "039", "040"), {TV, DISP, END}),  # only the latest one
        (("030", "032", "033", "036", "038", "039", "040", "040"), {TV, DISP}),  # repeated: both
        (("030", "032", "033", "036", "038", "040", "045"), {TV, DISP, END, PAG}),  # DIAN: only a trailing 040
        (("030", "032", "033", "041"), {TV, LIM}),
        (("030", "032", "033", "041", "042"), {FE, TV}),  # 042 ends the limitation
        (("030", "032", "033", "036", "045"), {TV, DISP, PAG}),
        (("030", "032", "033", "036", "048"), {TV, DISP, PROT}),
        (("030", "032", "033", "036", "049", "050", "051"), {TV, DISP, TRANS}),
        (("030", "035", "043", "044", "046"), {FE}),  # aval, mandato, informe: never a badge
        (("030", "032", "033", "036", "047"), {TV, DISP, END}),  # endoso con efectos de cesión ordinaria
    ],
)
def test_given_events_then_the_badges_dian_shows(codigos, esperadas):
    assert insignias(eventos(*codigos)) == frozenset(esperadas)


def test_given_numero_10_and_2_at_the_same_instant_then_ordered_as_integers():
    # Given two events signed in the same second, numero "2" and "10" (as text "10" < "2")
    same = T0 + timedelta(hours=1)  # after the base events below
    endoso = Evento("c-038", "038", 2, same)
    cancel = Evento("c-040", "040", 10, same)
    # When ordered / Then 2 before 10, so the 040 is last and cancels the endoso
    assert [e.numero for e in ordenados([cancel, endoso])] == [2, 10]
    base = eventos("030", "032", "033", "036")
    assert END not in insignias([*base, cancel, endoso])


def test_given_a_duplicated_cude_then_one_event():
    # Given the same event twice (two polls) / Then it counts once: a second 040 does not cancel twice
    base = eventos("030", "032", "033", "036", "038", "039")
    cancel = Evento("c-040", "040", 7, T0 + timedelta(hours=1))
    assert len(ordenados([*base, cancel, cancel])) == 7
    assert insignias([*base, cancel, cancel]) == frozenset({TV, DISP, END})


def test_given_events_out_of_date_order_then_sorted_by_date_first():
    late = Evento("c-1", "040", 1, T0 + timedelta(days=1))
    early = Evento("c-2", "038", 2, T0)
    assert [e.codigo for e in ordenados([late, early])] == ["038", "040"]
