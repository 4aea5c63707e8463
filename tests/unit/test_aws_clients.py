"""recaudo.aws: every client of a container from one boto3 session (a session per client costs a cold
start ~100 ms each), made safely from several threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3

from recaudo import aws as clientes


def test_given_three_clients_of_a_container_then_one_session_made_them(aws, monkeypatch):
    # Given a container that counts the sessions it makes
    made: list[object] = []

    class Counted(boto3.session.Session):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(boto3.session, "Session", Counted)
    clientes.nueva_sesion()
    try:
        # When it makes a DynamoDB, an S3 and a Step Functions client with a timeout
        ddb = clientes.client("dynamodb")
        clientes.client("s3")
        clientes.client_with_timeout("stepfunctions", 5.0)
        # Then one session made them all, and they answer
        assert len(made) == 1
        assert ddb.list_tables()["TableNames"] == []
        # And a second call returns the same client
        assert clientes.client("dynamodb") is ddb
    finally:
        clientes.nueva_sesion()


def test_given_clients_made_from_eight_threads_at_once_then_each_is_whole(aws):
    clientes.nueva_sesion()
    services = ["dynamodb", "s3", "stepfunctions", "events", "kms", "sqs", "sts", "lambda"]
    try:
        # When eight threads each make a different client at the same time
        with ThreadPoolExecutor(8) as pool:
            made = list(pool.map(clientes.client, services))
        # Then each is a client of its own service, from the one session
        assert [c.meta.service_model.service_name for c in made] == services
        assert len(clientes._sesion) == 1
    finally:
        clientes.nueva_sesion()


def test_given_a_client_on_first_use_when_nothing_calls_it_then_it_is_never_built(aws):
    clientes.nueva_sesion()
    before = len(clientes._creados)  # every client made in this process so far

    def built() -> list[str]:
        return [c.meta.service_model.service_name for c in clientes._creados[before:]]

    try:
        # Given proxies for two services a function may never call
        flow = clientes.al_usarlo("stepfunctions", 5.0)
        events = clientes.al_usarlo("events")
        # When nothing uses them, Then no client was built
        assert built() == []
        # When one is used, Then exactly that one is built: the cached client, with its timeout
        assert events.list_event_buses()["EventBuses"][0]["Name"] == "default"
        assert built() == ["events"]
        assert events.meta is clientes.client("events").meta
        assert flow.meta.config.read_timeout == 5.0
        assert flow.meta is clientes.client_with_timeout("stepfunctions", 5.0).meta
    finally:
        clientes.nueva_sesion()
