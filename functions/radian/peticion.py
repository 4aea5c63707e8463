"""What every RADIAN endpoint reads from the request: the tenant the authorizer vouched for."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from recaudo.models.radian import RadianError
from recaudo.rest import authorizer_value


def tenant(app: APIGatewayRestResolver) -> str:
    value = authorizer_value(app, "tenant")
    if not value:  # only reachable if the route were deployed without the authorizer
        raise RadianError(401, "NO_AUTENTICADO", "no autenticado")
    return value
