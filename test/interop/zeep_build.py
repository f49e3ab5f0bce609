#!/usr/bin/python3
"""Build (do not send) a request with zeep from a MIIS WSDL, the way an independent client would.

Usage:
  zeep_build.py WSDL OPERATION PARAMS_JSON HEADERS_JSON

Prints the SOAP envelope zeep builds on stdout (UTF-8). Exit status 2 on usage errors.
"""
import json
import sys

import zeep
from lxml import etree


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    wsdl, operation, params_json, headers_json = argv[1:5]
    client = zeep.Client(wsdl)
    message = client.create_message(client.service, operation, **json.loads(params_json), _soapheaders=json.loads(headers_json))
    sys.stdout.write(etree.tostring(message, xml_declaration=True, encoding="UTF-8").decode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
