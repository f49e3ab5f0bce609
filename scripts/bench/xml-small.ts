/**
 * `npm run bench:xml-small`: the fixed cost of reading the small documents every exchange reads
 * several times per node (core/xml.ts parseXml, core/soap.ts readSoapMessage, the detached signature
 * document of core/signature.ts): a typical consultarPersona request (about 1.2 KB), its response
 * (with the requestHash header) and a signature document (RSA, as signDetached writes it, parsed as
 * verifyDetached's parsing path does). Prints the CPU time per call in µs, the median of several
 * rounds (CPU time of the process, steadier than wall time on a shared machine). Asserts nothing.
 *
 *   npm run bench:xml-small                 default rounds
 *   npm run bench:xml-small -- --rounds 15  more rounds (default 9, after 2 warm-up rounds)
 */
import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addRequestHash, readSoapMessage } from '../../core/soap.js';
import { parseXml } from '../../core/xml.js';

/** As SIGNATURE_DOC_LIMITS in core/signature.ts. */
const SIGNATURE_LIMITS = { maxBytes: 64 * 1024, maxDepth: 8, maxElements: 32 } as const;
/** Distinct messages per round (so no string is the same as the one parsed just before). */
const MESSAGES = 500;
/** Passes over the messages per round. */
const PASSES = 20;

const ENVELOPE = 'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd" xmlns:ren="http://miis.midis.gob.pe/servicios/reniec"';
const CLIENT = '<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client>';
const SERVICE = '<xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20295613620</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarPersona</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>';

function header(i: number): string {
  return `<SOAP-ENV:Header>${CLIENT}${SERVICE}<xrd:id>bench-${i}-7f3c9a</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion><miis:convenio>CONV-001-2026</miis:convenio><miis:finalidad>FOCALIZACION</miis:finalidad></SOAP-ENV:Header>`;
}

/** The consultarPersona request of test/e2e/fixture.ts personaRequest (1,183 bytes for an id of its length). */
function request(i: number): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope ${ENVELOPE}>
${header(i)}
<SOAP-ENV:Body><ren:consultarPersona><dni>${40_000_000 + i}</dni></ren:consultarPersona></SOAP-ENV:Body>
</SOAP-ENV:Envelope>`, 'utf8');
}

/** A backend's response to it, with the requestHash the provider node adds. */
function response(i: number, req: Buffer): Buffer {
  const raw = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope ${ENVELOPE}>
${header(i)}
<SOAP-ENV:Body><ren:consultarPersonaResponse><persona><dni>${40_000_000 + i}</dni><nombres>MARÍA ELENA</nombres><apellidoPaterno>QUISPE</apellidoPaterno><apellidoMaterno>MAMANI</apellidoMaterno><fechaNacimiento>1980-04-12</fechaNacimiento><ubigeo>150101</ubigeo><estadoCivil>SOLTERA</estadoCivil></persona></ren:consultarPersonaResponse></SOAP-ENV:Body>
</SOAP-ENV:Envelope>`, 'utf8');
  return addRequestHash(readSoapMessage(raw, 'response'), req);
}

/** A signature document in signDetached's shape with a real (self-signed, RSA 2048) certificate when openssl is there. */
function signatureDocument(i: number, certB64: string): Buffer {
  const digest = Buffer.alloc(32, i % 251).toString('base64');
  const value = Buffer.alloc(256, (i * 7) % 251).toString('base64');
  const ds = 'http://www.w3.org/2000/09/xmldsig#';
  return Buffer.from(`<ds:Signature xmlns:ds="${ds}"><ds:SignedInfo xmlns:ds="${ds}">`
    + '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>'
    + '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod>'
    + '<ds:Reference URI="message.xml"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod>'
    + `<ds:DigestValue>${digest}</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>${value}</ds:SignatureValue>`
    + `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certB64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`, 'utf8');
}

/** Base64 DER of a self-signed certificate (openssl), or of an equally long stand-in without it. */
function certificateBase64(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xml-small-'));
  try {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync('openssl', ['req', '-x509', '-new', '-key', join(dir, 'key.pem'), '-subj', '/CN=bench', '-days', '1', '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return readFileSync(join(dir, 'cert.pem'), 'utf8').replace(/-----[A-Z ]+-----|\s+/g, '');
  } catch {
    return Buffer.alloc(780, 0x5a).toString('base64');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Median CPU µs per call of `f` over every input, `rounds` rounds after two warm-up ones. */
function measure(inputs: readonly Buffer[], rounds: number, f: (b: Buffer) => unknown): number {
  const times: number[] = [];
  for (let r = 0; r < rounds + 2; r += 1) {
    const c0 = process.cpuUsage();
    for (let p = 0; p < PASSES; p += 1) for (const b of inputs) f(b);
    const c = process.cpuUsage(c0);
    if (r >= 2) times.push((c.user + c.system) / (PASSES * inputs.length));
  }
  return median(times);
}

const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 9;
const requests = Array.from({ length: MESSAGES }, (_, i) => request(i));
const responses = requests.map((q, i) => response(i, q));
const cert = certificateBase64();
const signatures = Array.from({ length: MESSAGES }, (_, i) => signatureDocument(i, cert));

console.log(`small documents: request ${requests[0]!.length} B, response ${responses[0]!.length} B, signature ${signatures[0]!.length} B; CPU µs per call, median of ${rounds} rounds of ${PASSES * MESSAGES}; node ${process.version}\n`);
const rows: [string, number][] = [
  ['parseXml request', measure(requests, rounds, (b) => parseXml(b))],
  ['readSoapMessage request', measure(requests, rounds, (b) => readSoapMessage(b, 'request'))],
  ['parseXml response', measure(responses, rounds, (b) => parseXml(b))],
  ['readSoapMessage response', measure(responses, rounds, (b) => readSoapMessage(b, 'response'))],
  ['parseXml signature document', measure(signatures, rounds, (b) => parseXml(b, SIGNATURE_LIMITS))],
];
for (const [name, us] of rows) console.log(`${name.padEnd(30)} ${us.toFixed(2).padStart(8)} µs`);
