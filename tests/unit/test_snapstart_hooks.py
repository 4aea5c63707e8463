"""SnapStart's runtime hooks (issue 15): registered with the runtime's library as soon as a function
imports the observability stack; after a restore, ``random`` no longer continues the snapshot's
sequence and the AWS clients made during the init drop their pooled connections but keep working."""

from __future__ import annotations

import random

import snapshot_restore_py

from recaudo import aws as clientes
from recaudo import snapstart


def test_given_the_observability_stack_imported_then_the_after_restore_hook_is_registered_once():
    import recaudo.observability  # noqa: F401 (what every function imports)

    # Given the module imported (and registration asked for again) / Then the hook is there, once
    assert snapstart.registrar() is True
    hooks = [entry[0] for entry in snapshot_restore_py.get_after_restore()]
    assert hooks.count(snapstart.despues_de_restaurar) == 1


def test_given_two_environments_resumed_from_one_snapshot_then_their_random_draws_differ():
    # Given the state a snapshot captured (the same in every environment resumed from it)
    random.seed(1234)
    captured = random.getstate()
    without_hook = random.random()
    # When an environment is resumed and the hook runs
    random.setstate(captured)
    snapstart.despues_de_restaurar()
    # Then it no longer draws what every other resumed environment would
    assert random.random() != without_hook


class _Client:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_given_clients_made_during_the_init_when_restored_then_each_closes_its_connections(monkeypatch):
    # Given two clients made before the snapshot
    made = [_Client(), _Client()]
    monkeypatch.setattr(clientes, "_creados", made)
    # When the environment is restored
    snapstart.despues_de_restaurar()
    # Then each closed its pooled connections
    assert [c.closed for c in made] == [1, 1]


def test_given_a_real_client_closed_after_a_restore_then_it_still_answers(aws, monkeypatch):
    monkeypatch.setattr(clientes, "_creados", [])
    clientes.nueva_sesion()
    try:
        # Given a DynamoDB client made by the init, used once
        ddb = clientes.client("dynamodb")
        assert ddb.list_tables()["TableNames"] == []
        # When a restore closes its connections / Then it still answers
        snapstart.despues_de_restaurar()
        assert ddb.list_tables()["TableNames"] == []
    finally:
        clientes.nueva_sesion()
