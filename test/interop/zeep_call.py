#!/usr/bin/python3
"""Call a MIIS service with zeep (python3-zeep), the way an independent SOAP client would.

Usage:
  zeep_call.py WSDL_URL SERVICE_ADDRESS OPERATION PARAMS_JSON [HEADERS_JSON]

  WSDL_URL         where zeep loads the WSDL (and, by relative schemaLocation, its schemas)
  SERVICE_ADDRESS  endpoint to POST to (overrides the WSDL's soap:address); "-" keeps the
                   WSDL's soap:address
  OPERATION        e.g. consultarPersona
  PARAMS_JSON      body parameters, e.g. {"dni": "97346816"}
  HEADERS_JSON     X-Road and MIIS headers keyed by the WSDL's soap:header part names:
                   {"client": {"objectType": "SUBSYSTEM", "xRoadInstance": "PE", ...},
                    "service": {...}, "id": "...", "userId": "...", "protocolVersion": "4.0",
                    "convenio": "...", "finalidad": "..."}

Prints one JSON object on stdout:
  {"ok": true, "header": {...}, "body": {...}}            on a normal response
  {"ok": false, "fault": {"code": ..., "message": ...}}   on a SOAP Fault
Exit status 0 in both cases; 2 on usage errors; anything else is a crash (traceback on stderr).
"""
import json
import sys

import requests
import zeep
from zeep.exceptions import Fault
from zeep.helpers import serialize_object
from zeep.transports import Transport


def main(argv):
    if len(argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    wsdl_url, address, operation, params_json = argv[1:5]
    params = json.loads(params_json)
    headers = json.loads(argv[5]) if len(argv) == 6 else None

    session = requests.Session()
    session.trust_env = False  # loopback only: ignore any HTTP(S)_PROXY of the environment
    client = zeep.Client(wsdl_url, transport=Transport(session=session, timeout=10, operation_timeout=10))
    if address == "-":
        service = client.service
    else:
        service = client.create_service(first_binding_with(client, operation), address)

    try:
        if headers is None:
            result = getattr(service, operation)(**params)
        else:
            result = getattr(service, operation)(**params, _soapheaders=headers)
    except Fault as fault:
        print(json.dumps({"ok": False, "fault": {"code": fault.code, "message": fault.message}}, ensure_ascii=False))
        return 0

    data = serialize_object(result, dict)
    if isinstance(data, dict) and "body" in data and "header" in data:
        out = {"ok": True, "header": data["header"], "body": data["body"]}
    else:
        out = {"ok": True, "header": None, "body": data}
    print(json.dumps(out, ensure_ascii=False, default=str))
    return 0


def first_binding_with(client, operation):
    for service in client.wsdl.services.values():
        for port in service.ports.values():
            if operation in port.binding._operations:
                return port.binding.name.text
    raise SystemExit(f"la operación {operation} no está en el WSDL")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
