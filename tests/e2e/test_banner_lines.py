"""The banner's ready-to-paste lines, pasted into a shell as a newcomer would, against the stack the
README starts: every one answers, in order (pay, verify, list, reverse; import, export, download,
drop, report)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from urllib.parse import urlsplit

PASTED = (
    "TOKEN=",
    "HASH=",
    "curl ",
    "AWS_ACCESS_KEY_ID=",
    "sign() {",
    "BODY=",
    "read K N S",
    "RTOKEN=",
    "CUFE=",
    "UTOKEN=",
)
VARIABLES = ("TOKEN=", "HASH=", "sign() {", "BODY=", "RTOKEN=", "CUFE=", "UTOKEN=")


def _run(line: str, cwd, env_lines: list[str]) -> str:
    script = "\n".join(["set -euo pipefail", *env_lines, line])
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=60, check=True
    ).stdout


def test_given_the_banner_when_each_line_is_pasted_into_a_shell_then_each_answers(recaudo, tmp_path):
    # Given the banner the runner printed
    lines = [line.strip() for line in recaudo.terminal().splitlines() if line.strip().startswith(PASTED)]
    variables = [line for line in lines if line.startswith(VARIABLES)]
    commands = [line for line in lines if line not in variables]
    assert len(variables) == 7 and len(commands) >= 22
    answers: dict[str, str] = {}
    for command in commands:
        if command.startswith("AWS_ACCESS_KEY_ID=") and not shutil.which("aws"):
            continue  # the AWS CLI is the user's own tool; the S3 drop is covered without it elsewhere
        # When it is pasted
        out = _run(command, tmp_path, variables)
        if "importacion=cobros.csv" in command:  # the drop imports asynchronously: ask again for a while
            deadline = time.monotonic() + 20
            while not out.startswith("OK:") and time.monotonic() < deadline:
                time.sleep(0.5)
                out = _run(command, tmp_path, variables)
        if command.endswith('/$CUFE"'):  # the schedule's run polls asynchronously: read again for a while
            deadline = time.monotonic() + 20
            while "Título Valor" not in out and time.monotonic() < deadline:
                time.sleep(0.5)
                out = _run(command, tmp_path, variables)
        urls = re.findall(r'"(http://[^"]+)"', command)
        path = urlsplit(urls[-1]).path.split("/", 2)[2] if urls else "s3 cp"  # after /<stage>/
        if "-d '{" in command and path == "v1/facturas":
            path = "v1/facturas (POST)"
        if path.startswith("wssb/admin/paymentDue;contextId="):
            path = "paymentDue (POST)" if "--data-binary" in command else "paymentDue (GET)"
        answers[path.removeprefix("v1/integracion-conectividad/").removeprefix("cobranzas/")] = out
    # Then each one answers what the banner promises
    assert '"identificacion":"12345678"' in answers["obtener-persona"]
    assert '"saldosPersonaResumen"' in answers["saldos-persona-resumen"]
    assert '"codigoRespuesta":0' in answers["ejecutar-pago-vencido"]
    assert answers["verificar-pago"].strip() == "200"
    assert answers["historial-pagos"].startswith("[{")
    assert answers["reversar-pago"] == "0"
    assert re.fullmatch(r"OK: \d{6} - 12 registros importados", answers["importar/csv"])
    assert len(answers["exportar/csv"].splitlines()) >= 12
    assert list(tmp_path.glob("cobranzas-clubdemo-*.csv"))  # descargar: the attachment, by its own name
    if shutil.which("aws"):
        assert answers["importar/reporte"].startswith("OK: ")
    # CPS: each line signs its own request (a fresh nonce) with the demo channel's key
    assert '"estado":"CONFIRMADA"' in answers["v2/operation/use/pay"]
    assert answers["v2/list/basic_services"].startswith('[{"idTypeService"')
    assert '"balance":' in answers["v2/operation/get/balance"]
    # RADIAN: track the document's example, fire the schedule, read its badges, list, poll now
    assert '"resultado":"REGISTRADA"' in answers["v1/facturas (POST)"]
    assert '"lotes":' in answers["recaudo-radian-sondeo/run"]
    assert '"insignias":["Factura Electrónica","Título Valor"]' in answers["v1/facturas/$CUFE"]
    assert '"codigo":"033"' in answers["v1/facturas/$CUFE"]
    assert "Título Valor" in answers["v1/facturas"]
    assert '"resultado":"SONDEO_SOLICITADO"' in answers["v1/facturas/$CUFE/sondeo"]
    # Sistema UNO: the document's payload as is gives two creates; the dues read back
    creates = re.findall(
        r'<create id="00000000-0000-1000-0000-\d{12}" statusCode="200"/>', answers["paymentDue (POST)"]
    )
    assert answers["paymentDue (POST)"].startswith("<?xml") and len(creates) == 2
    assert answers["paymentDue (GET)"].count("<payment>") == 7
