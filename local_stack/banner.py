"""What the runner prints once the stack is up: URLs, then each context's ready-to-paste lines.

Each context adds one function to ``CONTEXTS`` (docs/contexts.md, "banner lines"); it reads only
``.local/stack.json``'s state and returns its lines (none when its demo was not seeded).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def conectividad(state: dict[str, Any]) -> list[str]:
    """The demo bank's lines: query, pay, verify, list and reverse."""
    demo = state.get("demo") or {}
    if "bank" not in demo:
        return []
    api = state["apiBaseUrls"].get("api", next(iter(state["apiBaseUrls"].values()), ""))
    ident = demo["persona"]["identificacion"]
    base = f"{api}/v1/integracion-conectividad"
    year = datetime.now().year
    # the custom domain's root mapping, when the template has one: a bank's base URL is the host
    roots = [
        f"  custom domain {domain.rstrip('/')}: the same paths at the root, {d['url']}/v1/integracion-conectividad/…"
        for domain, d in (state.get("customDomains") or {}).items()
        if d["stage"] == "api" and domain.endswith("/")
    ]
    return [
        "",
        f"  demo bank {demo['bank']['codigoBanco']}: token and llaveAcceso in {state['stateFile']}",
        *roots,
        f"  demo person {ident} ({demo['persona']['nombre']}): {demo['persona']['pendientes']} pending debts, "
        f"convenios {', '.join(f'{k}={v}' for k, v in demo['persona']['convenios'].items())}",
        "",
        "  Try:",
        f"    TOKEN=$(python3 -c \"import json;print(json.load(open('{state['stateFile']}'))['demo']['bank']['token'])\")",
        f'    curl -s -H "Authorization: Token $TOKEN" "{base}/obtener-persona?identificacion={ident}"',
        f'    curl -s -H "Authorization: Token $TOKEN" "{base}/saldos-persona-resumen?codigoConvenio=001&identificacion={ident}&numeroPagina=1&longitudPagina=5"',
        f'    curl -s -H "Authorization: Token $TOKEN" "{base}/saldos-vencido-persona?idDeudor={ident}"',
        f'    curl -s -H "Authorization: Token $TOKEN" "{base}/saldos-persona?codigoConvenio=004&identificacion={ident}"',
        "",
        f"  Pay, verify, see the history and reverse invoice {demo['pago']['factura']} ({demo['pago']['monto']}):",
        f'    curl -s -H "Authorization: Token $TOKEN" -H \'Content-Type: application/json\' -d @{Path(state["stateFile"]).parent}/pago.json "{base}/ejecutar-pago-vencido"',
        f'    curl -s -o /dev/null -w \'%{{http_code}}\\n\' -H "Authorization: Token $TOKEN" "{base}/verificar-pago?numeroFactura={demo["pago"]["factura"]}"',
        f'    curl -s -H "Authorization: Token $TOKEN" "{base}/historial-pagos?cedula={ident}&fechaInicio=01/01/{year}&fechaFinal=31/12/{year}"',
        f'    curl -s -H "Authorization: Token $TOKEN" -H \'Content-Type: application/json\' -d @{Path(state["stateFile"]).parent}/reversa.json "{base}/reversar-pago"',
    ]


def cobranzas(state: dict[str, Any]) -> list[str]:
    """The demo integrator's lines: import, export, download, S3 drop and report."""
    cob = (state.get("demo") or {}).get("cobranzas")
    if not cob:
        return []
    api2 = state["apiBaseUrls"].get("api2", "")
    model = ROOT / "examples" / "cobranzas" / "cobros-demo.csv"
    return [
        "",
        f"  Cobranzas (Pay per TIC), integrator {cob['integrador']} (convenio {cob['convenio']}): hash in {state['stateFile']}",
        f"    HASH=$(python3 -c \"import json;print(json.load(open('{state['stateFile']}'))['demo']['cobranzas']['hash'])\")",
        f'    curl -s -F hash=$HASH -F file=@{model} "{api2}/cobranzas/importar/csv"',
        f'    curl -s -H "Authorization: Bearer $HASH" "{api2}/cobranzas/exportar/csv?periodo=*"',
        f'    curl -s -OJ -d hash=$HASH -d id_cliente=1001 "{api2}/cobranzas/descargar/csv"',
        f"    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --endpoint-url {state['awsEndpointUrl']} s3 cp {model} s3://{cob['bucket']}/{cob['prefijo']}cobros.csv",
        f'    curl -s -H "Authorization: Bearer $HASH" "{api2}/cobranzas/importar/reporte?importacion=cobros.csv"',
    ]


def recargas(state: dict[str, Any]) -> list[str]:
    """The demo channel's signed lines: pay, list and balance (HMAC-SHA384 over PATH + NONCE + JSON)."""
    cps = (state.get("demo") or {}).get("cps")
    if not cps:
        return []
    sign = (
        'sign() { python3 -c \'import hmac,hashlib,json,sys,time;c=json.load(open(sys.argv[1]))["demo"]["cps"];'
        'n=str(int(time.time()*1000));print(c["apiKey"],n,hmac.new(c["privateKey"].encode(),'
        f'(sys.argv[2]+n+sys.argv[3]).encode(),hashlib.sha384).hexdigest())\' {state["stateFile"]} "$1" "$2"; }}'
    )
    base = f"{cps['baseUrl']}/cps"
    signed = '-H "api-key: $K" -H "api-nonce: $N" -H "api-signature: $S"'
    numbers = cps["numbers"]
    balance_query = f'{{"numberService":"{numbers["saldo"]}","idTypeService":57}}'
    return [
        "",
        f"  CPS recargas: demo channel's api-key and private key in {state['stateFile']}; fake carrier at {cps['carrierUrl']}",
        f"  numbers by carrier behaviour: {', '.join(f'{k}={v}' for k, v in numbers.items())}",
        f"  Swagger UI: {state['swaggerUi']}/recargas",
        f"    {sign}",
        f'    BODY=\'{{"numberService":"{numbers["aplicada"]}","idTypeService":57,"amount":10}}\'',
        f"    read K N S < <(sign /v2/operation/use/pay \"$BODY\"); curl -s {signed} -H 'Content-Type: application/json' "
        f'-d "$BODY" "{base}/v2/operation/use/pay"',
        f"    read K N S < <(sign /v2/list/basic_services '{{\"canGetBalance\":true}}'); curl -s {signed} "
        f'"{base}/v2/list/basic_services?canGetBalance=true"',
        f"    read K N S < <(sign /v2/operation/get/balance '{balance_query}'); curl -s {signed} "
        f'"{base}/v2/operation/get/balance?numberService={numbers["saldo"]}&idTypeService=57"',
    ]


def radian(state: dict[str, Any]) -> list[str]:
    """The demo tenant's lines: track the document's example invoice, fire the schedule, read its badges."""
    rad = (state.get("demo") or {}).get("radian")
    if not rad:
        return []
    base = f"{rad['baseUrl']}/radian/v1/facturas"
    auth = '-H "Authorization: Token $RTOKEN"'
    cases = ", ".join(sorted(rad["cufes"]))
    return [
        "",
        f"  RADIAN: tenant {rad['tenant']}'s token in {state['stateFile']}; fake afacturar at {rad['fakeUrl']}",
        f"  CUFEs scripted by the fake ({cases}): demo.radian.cufes; the schedule: {rad['schedule']}",
        f"  Swagger UI: {state['swaggerUi']}/radian",
        f"    RTOKEN=$(python3 -c \"import json;print(json.load(open('{state['stateFile']}'))['demo']['radian']['token'])\")",
        f"    CUFE={rad['cufes']['documento']}",
        f'    curl -s {auth} -H \'Content-Type: application/json\' -d \'{{"facturas":[{{"cufe":"\'$CUFE\'"}}]}}\' "{base}"',
        f'    curl -s -X POST "{rad["baseUrl"]}/_schedules/{rad["schedule"]}/run"',
        f'    curl -s {auth} "{base}/$CUFE"',
        f'    curl -s {auth} "{base}?estado=titulo-valor"',
        f'    curl -s -X POST {auth} "{base}/$CUFE/sondeo"',
    ]


def uno(state: dict[str, Any]) -> list[str]:
    """The demo business's lines: post the document's payload as is, read the dues back."""
    uno = (state.get("demo") or {}).get("uno")
    if not uno:
        return []
    ctx = uno["context"]
    context_id = (
        f"%7B%22businessId%22%3A{ctx['businessId']}%2C%22schoolId%22%3A{ctx['schoolId']}"
        f"%2C%22schoolYearId%22%3A{ctx['schoolYearId']}%7D"
    )
    url = f"{uno['baseUrl']}/wssb/admin/paymentDue;contextId={context_id}"
    auth = '-H "Authorization: Token $UTOKEN"'
    payload = ROOT / "examples" / "uno" / "paymentDue.xml"  # the document's own payload, as is
    return [
        "",
        f"  Sistema UNO: business {ctx['businessId']}'s token in {state['stateFile']}; school {ctx['schoolId']}, "
        f"year {ctx['schoolYearId']}; priced articles {', '.join(map(str, uno['pricedArticles']))} "
        f"(unpriced: {uno['unpricedArticle']})",
        f"  Swagger UI: {state['swaggerUi']}/cuotas",
        f"    UTOKEN=$(python3 -c \"import json;print(json.load(open('{state['stateFile']}'))['demo']['uno']['token'])\")",
        f"    curl -s {auth} -H 'Content-Type: application/xml' --data-binary @{payload} \"{url}\"",
        f'    curl -s {auth} "{url}"',
    ]


CONTEXTS: list[Callable[[dict[str, Any]], list[str]]] = [conectividad, cobranzas, recargas, radian, uno]


def banner(state: dict[str, Any]) -> str:
    lines = ["", "recaudo local stack ready", ""]
    for stage, url in state["apiBaseUrls"].items():
        lines.append(f"  API ({stage}):     {url}")
    lines += [
        f"  Swagger UI:      {state['swaggerUi']}",
        f"  AWS endpoint:    {state['awsEndpointUrl']}   (AWS_ENDPOINT_URL; any credentials act as the operator)",
        f"  state:           {state['stateFile']}   (started in {state['startupSeconds']} s)",
        f"  function logs:   {state['logsDir']}/<function>.log   (one line per request below)",
        f"  Python:          {state['python']}",
    ]
    for context in CONTEXTS:
        lines += context(state)
    lines += [f"  warning: {w}" for w in state.get("warnings", [])]
    lines += ["", "  Ctrl-C stops everything.", ""]
    return "\n".join(lines)
