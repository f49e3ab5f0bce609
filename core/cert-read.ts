/**
 * Reading X.509 certificates with core/der.ts only: the fields the node needs on its hot path
 * (names, validity, basic constraints, policies, key usages, SAN e-mails). @peculiar/x509 (and
 * reflect-metadata, ~18 MB of RSS) is loaded only by the generation code in core/pki.ts (CSRs,
 * CA work). Name text follows @peculiar/x509's Name.toString() exactly (RDNs in certificate
 * order, ", " between them, "+" inside one, RFC 4514 escapes), with 2.5.4.5 spelled serialNumber.
 */
import { child, readDer, readOid, type DerNode } from './der.js';
import { MiisError } from './errors.js';

export interface CertFields {
  readonly serialNumberHex: string;
  readonly issuer: string;
  readonly subject: string;
  /** Subject attribute values by OID, in certificate order. */
  readonly subjectAttributes: ReadonlyMap<string, readonly string[]>;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCa: boolean;
  /** extnValue of certificatePolicies (DER), when present. */
  readonly policies?: Buffer | undefined;
  readonly extKeyUsages: readonly string[];
  /** KeyUsage bits as @peculiar/x509's KeyUsageFlags (digitalSignature = 1, nonRepudiation = 2, …); 0 when absent. */
  readonly keyUsage: number;
  /** rfc822Name entries of the subject alternative name. */
  readonly sanEmails: readonly string[];
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C',
  '0.9.2342.19200300.100.1.25': 'DC', '1.2.840.113549.1.9.1': 'E', '2.5.4.42': 'G', '2.5.4.43': 'I', '2.5.4.4': 'SN', '2.5.4.12': 'T',
  '2.5.4.5': 'serialNumber',
};

function bad(what: string): MiisError {
  return new MiisError('Config.InvalidCertificate', `no se puede leer el certificado X.509 (${what})`);
}

/** Text of a DirectoryString / AttributeValue; undefined when it is not a string type. */
function stringValue(n: DerNode): string | undefined {
  switch (n.tag) {
    case 0x0c: return n.value.toString('utf8');
    case 0x13: case 0x16: case 0x14: return n.value.toString('latin1');
    case 0x1e: return Buffer.from(n.value).swap16().toString('utf16le');
    case 0x1c: {
      let s = '';
      for (let i = 0; i + 3 < n.value.length; i += 4) s += String.fromCodePoint(n.value.readUInt32BE(i));
      return s;
    }
    default: return undefined;
  }
}

function escapeValue(data: string): string {
  return data
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/([ ]$)/, '\\$1')
    .replace(/([\r\n\t])/, (c) => `\\${Buffer.from(c, 'utf8').toString('hex').toUpperCase()}`);
}

function readName(name: DerNode, attributes?: Map<string, string[]>): string {
  return name.children.map((rdn) => rdn.children.map((atv) => {
    const type = readOid(child(atv, 0));
    const v = child(atv, 1);
    const text = stringValue(v);
    if (attributes !== undefined && text !== undefined) {
      const list = attributes.get(type) ?? [];
      list.push(text);
      attributes.set(type, list);
    }
    return `${SHORT_NAMES[type] ?? type}=${text === undefined ? `#${v.raw.toString('hex')}` : escapeValue(text)}`;
  }).join('+')).join(', ');
}

function readTime(n: DerNode): Date {
  const s = n.value.toString('ascii');
  const m = n.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (m === null) throw bad('fecha de vigencia');
  let year = Number(m[1]);
  if (n.tag === 0x17) year += year >= 50 ? 1900 : 2000;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

export function readCertificate(der: Uint8Array): CertFields {
  let tbs: DerNode;
  try {
    tbs = child(readDer(der), 0, 0x30);
  } catch {
    throw bad('estructura');
  }
  try {
    let i = tbs.children[0]?.tag === 0xa0 ? 1 : 0;
    const serialNumberHex = child(tbs, i++, 0x02).value.toString('hex');
    i += 1; // signature algorithm
    const issuer = readName(child(tbs, i++, 0x30));
    const validity = child(tbs, i++, 0x30);
    const subjectAttributes = new Map<string, string[]>();
    const subject = readName(child(tbs, i++, 0x30), subjectAttributes);
    let isCa = false;
    let policies: Buffer | undefined;
    let extKeyUsages: string[] = [];
    let keyUsage = 0;
    const sanEmails: string[] = [];
    const extensions = tbs.children.find((c) => c.tag === 0xa3);
    for (const ext of extensions === undefined ? [] : child(extensions, 0, 0x30).children) {
      const id = readOid(child(ext, 0));
      const value = ext.children[ext.children.length - 1]!;
      if (value.tag !== 0x04) throw bad('extensión');
      switch (id) {
        case '2.5.29.19': {
          const first = readDer(value.value).children[0];
          isCa = first?.tag === 0x01 && first.value[0] !== 0;
          break;
        }
        case '2.5.29.32': policies = value.value; break;
        case '2.5.29.37': extKeyUsages = readDer(value.value).children.map(readOid); break;
        case '2.5.29.15': {
          const bits = readDer(value.value).value;
          for (let b = 0; b < 9; b += 1) {
            const byte = bits[1 + (b >> 3)];
            if (byte !== undefined && (byte >> (7 - (b & 7))) & 1) keyUsage |= 1 << b;
          }
          break;
        }
        case '2.5.29.17':
          for (const g of readDer(value.value).children) if (g.tag === 0x81) sanEmails.push(g.value.toString('latin1'));
          break;
        default:
      }
    }
    return {
      serialNumberHex, issuer, subject, subjectAttributes, notBefore: readTime(child(validity, 0)), notAfter: readTime(child(validity, 1)),
      isCa, policies, extKeyUsages, keyUsage, sanEmails,
    };
  } catch (err) {
    if (err instanceof MiisError && err.code === 'Config.InvalidCertificate') throw err;
    throw bad('campos');
  }
}
