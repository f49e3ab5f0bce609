/**
 * The writing services of the sandbox backends (SQLite, synchronous better-sqlite3):
 *   MIDIS RNU   registrarAfiliacionHogar: an IPF affiliates a PGH household with its members
 *               (any identity document: DNI, CE, PASAPORTE, CPP); DNI members also get their
 *               person-level affiliation, so consultarRNU shows them
 *   RENIEC      reportarBrechaIdentificacion: an IPF reports persons found without identity
 *               documents (directive 4.3 e: closing identification gaps); RENIEC answers an
 *               acknowledgement id and one case code per person
 * Each takes the request's operation element and the calling client (from the X-Road header) and
 * answers the response element, or throws InputError with a Spanish message for invalid input
 * (the backend turns it into a SOAP Client fault). Contracts: wsdl/afiliacion.wsdl, wsdl/reniec.wsdl.
 */
import type Database from 'better-sqlite3';
import { limaDate, parseIsoDate } from '../../core/iso-date.js';
import { checkCentroPoblado, checkDocumento, checkUbigeo, type Documento } from '../../core/peru-ids.js';
import type { XmlElement } from '../../core/xml.js';
import { PARENTESCOS, type SandboxIndex } from './data.js';

export const AFILIACION_NS = 'http://miis.midis.gob.pe/servicios/afiliacion';

/** Invalid input: the message is Spanish and goes to the SOAP faultstring. */
export class InputError extends Error {}

/** Households per registrarAfiliacionHogar request and members per household. */
export const MAX_HOGARES = 100;
export const MAX_MIEMBROS = 30;
/** Persons per reportarBrechaIdentificacion request. */
export const MAX_BRECHAS = 100;

function children(el: XmlElement, local: string, ns: string): XmlElement[] {
  return el.children.filter((c) => c.local === local && (c.uri === ns || c.uri === ''));
}

function optionalText(el: XmlElement, local: string, ns: string): string | undefined {
  const found = children(el, local, ns);
  if (found.length > 1) throw new InputError(`Solicitud no válida: el elemento ${local} se repite en ${el.local}`);
  return found[0]?.text.trim();
}

function requiredText(el: XmlElement, local: string, ns: string): string {
  const text = optionalText(el, local, ns);
  if (text === undefined || text.length === 0) throw new InputError(`Solicitud no válida: falta el elemento ${local} en ${el.local}`);
  return text;
}

function readDocumento(el: XmlElement, ns: string, where: string): Documento {
  const r = checkDocumento(requiredText(el, 'tipoDocumento', ns), requiredText(el, 'numeroDocumento', ns));
  if (!r.ok) throw new InputError(`Solicitud no válida: ${where}: ${r.reason}`);
  return r.value;
}

function readDate(text: string, where: string, today: string): string {
  let date: string;
  try {
    date = parseIsoDate(text);
  } catch {
    throw new InputError(`Solicitud no válida: ${where}: «${text.slice(0, 20)}» no es una fecha AAAA-MM-DD`);
  }
  if (date > today) throw new InputError(`Solicitud no válida: ${where}: la fecha ${date} es posterior a hoy (${today})`);
  return date;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === '"' ? '&quot;' : '&apos;'));
}

// --- RNU: household affiliation --------------------------------------------------------------

/** Tables added to the RNU (registries.ts creates the person-level ones). Idempotent. */
export const RNU_HOGAR_SCHEMA = `
  CREATE TABLE IF NOT EXISTS afiliaciones_hogar (
    codigo_hogar TEXT NOT NULL, programa TEXT NOT NULL REFERENCES programas(codigo), estado TEXT NOT NULL,
    fecha_afiliacion TEXT NOT NULL, registrado_por TEXT NOT NULL, registrado_en TEXT NOT NULL,
    PRIMARY KEY (codigo_hogar, programa));
  CREATE TABLE IF NOT EXISTS miembros_afiliados (
    codigo_hogar TEXT NOT NULL, programa TEXT NOT NULL, tipo_documento TEXT NOT NULL, numero_documento TEXT NOT NULL, parentesco TEXT NOT NULL,
    PRIMARY KEY (codigo_hogar, programa, tipo_documento, numero_documento),
    FOREIGN KEY (codigo_hogar, programa) REFERENCES afiliaciones_hogar (codigo_hogar, programa));
`;

interface HogarItem {
  readonly codigoHogar: string;
  readonly programa: string;
  readonly fecha: string;
  readonly miembros: readonly { readonly documento: Documento; readonly parentesco: string }[];
}

/**
 * registrarAfiliacionHogar. Per household: registrado=true when the household (and its members)
 * was affiliated now; otherwise registrado=false with an observacion: HOGAR_NO_EXISTE_EN_PGH,
 * MIEMBRO_NO_PERTENECE_AL_HOGAR (a DNI member the PGH does not list in that household),
 * PROGRAMA_NO_ADMINISTRADO (the programme is not the calling IPF's), YA_AFILIADO.
 */
export function createHogarAffiliation(db: Database.Database, index: SandboxIndex): (request: XmlElement, client: string, now: Date) => string {
  db.exec(RNU_HOGAR_SCHEMA);
  const owner = db.prepare('SELECT cliente FROM programas WHERE codigo = ?');
  const current = db.prepare('SELECT estado FROM afiliaciones_hogar WHERE codigo_hogar = ? AND programa = ?');
  const putHogar = db.prepare(`INSERT INTO afiliaciones_hogar VALUES (?, ?, 'AFILIADO', ?, ?, ?)
    ON CONFLICT (codigo_hogar, programa) DO UPDATE SET estado = 'AFILIADO', fecha_afiliacion = excluded.fecha_afiliacion,
      registrado_por = excluded.registrado_por, registrado_en = excluded.registrado_en`);
  const clearMembers = db.prepare('DELETE FROM miembros_afiliados WHERE codigo_hogar = ? AND programa = ?');
  const putMember = db.prepare('INSERT INTO miembros_afiliados VALUES (?, ?, ?, ?, ?)');
  const putPerson = db.prepare(`INSERT INTO afiliaciones (dni, programa, codigo_hogar, estado, fecha_afiliacion, registrado_por, registrado_en)
    VALUES (?, ?, ?, 'AFILIADO', ?, ?, ?)
    ON CONFLICT (dni, programa) DO UPDATE SET estado = 'AFILIADO', codigo_hogar = excluded.codigo_hogar, fecha_afiliacion = excluded.fecha_afiliacion,
      fecha_egreso = NULL, motivo = NULL, registrado_por = excluded.registrado_por, registrado_en = excluded.registrado_en`);

  const register = db.transaction((h: HogarItem, client: string, at: string): string | undefined => {
    const pgh = index.householdByCode.get(h.codigoHogar);
    if (pgh === undefined) return 'HOGAR_NO_EXISTE_EN_PGH';
    const pghDnis = new Set(pgh.miembros.map((m) => m.dni));
    const stranger = h.miembros.find((m) => m.documento.tipo === 'DNI' && !pghDnis.has(m.documento.numero));
    if (stranger !== undefined) return `MIEMBRO_NO_PERTENECE_AL_HOGAR ${stranger.documento.numero}`;
    const prog = owner.get(h.programa) as { cliente: string } | undefined;
    if (prog === undefined || prog.cliente !== client) return 'PROGRAMA_NO_ADMINISTRADO';
    if ((current.get(h.codigoHogar, h.programa) as { estado: string } | undefined)?.estado === 'AFILIADO') return 'YA_AFILIADO';
    putHogar.run(h.codigoHogar, h.programa, h.fecha, client, at);
    clearMembers.run(h.codigoHogar, h.programa);
    for (const m of h.miembros) {
      putMember.run(h.codigoHogar, h.programa, m.documento.tipo, m.documento.numero, m.parentesco);
      if (m.documento.tipo === 'DNI') putPerson.run(m.documento.numero, h.programa, h.codigoHogar, h.fecha, client, at);
    }
    return undefined;
  });

  return (request, client, now) => {
    const ns = AFILIACION_NS;
    const today = limaDate(now);
    const hogares = children(request, 'hogar', ns);
    if (hogares.length === 0) throw new InputError('Solicitud no válida: falta el elemento hogar');
    if (hogares.length > MAX_HOGARES) throw new InputError(`Solicitud no válida: ${hogares.length} hogares (máximo ${MAX_HOGARES})`);
    // every household is checked before anything is written
    const items: HogarItem[] = hogares.map((el, i) => {
      const where = `hogar n.º ${i + 1}`;
      const codigoHogar = requiredText(el, 'codigoHogar', ns);
      if (codigoHogar.length > 32) throw new InputError(`Solicitud no válida: ${where}: el código de hogar debe tener de 1 a 32 caracteres`);
      const miembros = children(el, 'miembro', ns);
      if (miembros.length === 0) throw new InputError(`Solicitud no válida: ${where}: el hogar necesita al menos un miembro`);
      if (miembros.length > MAX_MIEMBROS) throw new InputError(`Solicitud no válida: ${where}: ${miembros.length} miembros (máximo ${MAX_MIEMBROS})`);
      const seen = new Set<string>();
      return {
        codigoHogar, programa: requiredText(el, 'programa', ns), fecha: readDate(requiredText(el, 'fecha', ns), `${where}, fecha`, today),
        miembros: miembros.map((m, j) => {
          const documento = readDocumento(m, ns, `${where}, miembro n.º ${j + 1}`);
          const key = `${documento.tipo} ${documento.numero}`;
          if (seen.has(key)) throw new InputError(`Solicitud no válida: ${where}: el miembro ${key} se repite`);
          seen.add(key);
          const parentesco = requiredText(m, 'parentesco', ns).toUpperCase();
          if (!(PARENTESCOS as readonly string[]).includes(parentesco)) {
            throw new InputError(`Solicitud no válida: ${where}, miembro n.º ${j + 1}: parentesco «${parentesco.slice(0, 20)}» no válido (${PARENTESCOS.join(', ')})`);
          }
          return { documento, parentesco };
        }),
      };
    });
    const at = now.toISOString();
    let out = `<registrarAfiliacionHogarResponse xmlns="${ns}">`;
    for (const h of items) {
      const refused = register(h, client, at);
      out += `<resultado><codigoHogar>${escapeXml(h.codigoHogar)}</codigoHogar><registrado>${refused === undefined}</registrado>` +
        `<miembros>${refused === undefined ? h.miembros.length : 0}</miembros>` +
        `${refused === undefined ? '' : `<observacion>${escapeXml(refused)}</observacion>`}</resultado>`;
    }
    return `${out}</registrarAfiliacionHogarResponse>`;
  };
}

// --- RENIEC: identification gaps -------------------------------------------------------------

export const BRECHAS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS acuses (
    acuse TEXT PRIMARY KEY, cliente TEXT NOT NULL, usuario TEXT, recibido_en TEXT NOT NULL, personas INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS brechas (
    codigo_caso TEXT PRIMARY KEY, acuse TEXT NOT NULL REFERENCES acuses(acuse), cliente TEXT NOT NULL,
    prenombres TEXT NOT NULL, primer_apellido TEXT NOT NULL, segundo_apellido TEXT, sexo TEXT, fecha_nacimiento TEXT,
    ubigeo TEXT NOT NULL, centro_poblado TEXT, situacion TEXT NOT NULL,
    tipo_documento_alterno TEXT, numero_documento_alterno TEXT, tipo_documento_responsable TEXT, numero_documento_responsable TEXT,
    clave TEXT NOT NULL, estado TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS brechas_clave ON brechas (clave);
`;

/** Why the person has no DNI (as the IPF found it). */
export const SITUACIONES_BRECHA = ['SIN_ACTA_NI_DNI', 'CON_ACTA_SIN_DNI', 'DNI_NO_RENOVADO'] as const;

const NAME = /^[A-ZÁÉÍÓÚÜÑ][A-ZÁÉÍÓÚÜÑ '.-]{0,59}$/u;

interface BrechaItem {
  readonly prenombres: string;
  readonly primerApellido: string;
  readonly segundoApellido: string | undefined;
  readonly sexo: string | undefined;
  readonly fechaNacimiento: string | undefined;
  readonly ubigeo: string;
  readonly centroPoblado: string | undefined;
  readonly situacion: string;
  readonly alterno: Documento | undefined;
  readonly responsable: Documento | undefined;
  readonly clave: string;
}

/**
 * reportarBrechaIdentificacion. Every person is validated first (names, sexo, fecha de nacimiento
 * not after today, ubigeo in INEI coding, centro poblado inside that district, situacion, and an
 * alternative document — CE, PASAPORTE or CPP, never a DNI — or the DNI/document of a responsible
 * adult); then one acknowledgement (acuse) is recorded for the request and one case per person:
 * REGISTRADO, or YA_REPORTADO with the open case's code when the same person (names, birth date,
 * district) was already reported.
 */
export function createBrechaReport(db: Database.Database, ns: string): (request: XmlElement, client: string, userId: string | undefined, now: Date) => string {
  db.exec(BRECHAS_SCHEMA);
  const countAcuses = db.prepare('SELECT COUNT(*) AS n FROM acuses WHERE acuse LIKE ?');
  const countCases = db.prepare('SELECT COUNT(*) AS n FROM brechas WHERE codigo_caso LIKE ?');
  const putAcuse = db.prepare('INSERT INTO acuses VALUES (?, ?, ?, ?, ?)');
  const sameCase = db.prepare("SELECT codigo_caso FROM brechas WHERE clave = ? AND estado = 'REGISTRADO' ORDER BY codigo_caso LIMIT 1");
  const putCase = db.prepare('INSERT INTO brechas VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');

  const record = db.transaction((items: readonly BrechaItem[], client: string, userId: string | undefined, now: Date) => {
    const day = limaDate(now).replaceAll('-', '');
    const acuse = `ACUSE-${day}-${String((countAcuses.get(`ACUSE-${day}-%`) as { n: number }).n + 1).padStart(6, '0')}`;
    putAcuse.run(acuse, client, userId ?? null, now.toISOString(), items.length);
    const year = day.slice(0, 4);
    let seq = (countCases.get(`BR-${year}-%`) as { n: number }).n;
    const results = items.map((p) => {
      const existing = sameCase.get(p.clave) as { codigo_caso: string } | undefined;
      if (existing !== undefined) return { codigoCaso: existing.codigo_caso, estado: 'YA_REPORTADO' };
      seq += 1;
      const codigoCaso = `BR-${year}-${String(seq).padStart(7, '0')}`;
      putCase.run(codigoCaso, acuse, client, p.prenombres, p.primerApellido, p.segundoApellido ?? null, p.sexo ?? null, p.fechaNacimiento ?? null,
        p.ubigeo, p.centroPoblado ?? null, p.situacion, p.alterno?.tipo ?? null, p.alterno?.numero ?? null, p.responsable?.tipo ?? null,
        p.responsable?.numero ?? null, p.clave, 'REGISTRADO');
      return { codigoCaso, estado: 'REGISTRADO' };
    });
    return { acuse, results };
  });

  return (request, client, userId, now) => {
    const today = limaDate(now);
    const personas = children(request, 'persona', ns);
    if (personas.length === 0) throw new InputError('Solicitud no válida: falta el elemento persona');
    if (personas.length > MAX_BRECHAS) throw new InputError(`Solicitud no válida: ${personas.length} personas (máximo ${MAX_BRECHAS})`);
    const items = personas.map((el, i): BrechaItem => {
      const where = `persona n.º ${i + 1}`;
      const name = (local: string, required: boolean): string | undefined => {
        const text = required ? requiredText(el, local, ns) : optionalText(el, local, ns);
        if (text === undefined || text.length === 0) return undefined;
        const upper = text.toUpperCase().replace(/\s+/g, ' ');
        if (!NAME.test(upper)) throw new InputError(`Solicitud no válida: ${where}: ${local} «${text.slice(0, 30)}» debe tener de 1 a 60 letras, espacios, apóstrofos, puntos o guiones`);
        return upper;
      };
      const prenombres = name('prenombres', true) as string;
      const primerApellido = name('primerApellido', true) as string;
      const segundoApellido = name('segundoApellido', false);
      const sexo = optionalText(el, 'sexo', ns)?.toUpperCase();
      if (sexo !== undefined && sexo !== 'M' && sexo !== 'F') throw new InputError(`Solicitud no válida: ${where}: sexo debe ser M o F`);
      const birth = optionalText(el, 'fechaNacimiento', ns);
      const fechaNacimiento = birth === undefined ? undefined : readDate(birth, `${where}, fechaNacimiento`, today);
      const ubigeo = checkUbigeo(requiredText(el, 'ubigeo', ns), 'INEI');
      if (!ubigeo.ok) throw new InputError(`Solicitud no válida: ${where}: ${ubigeo.reason}`);
      const cpText = optionalText(el, 'codigoCentroPoblado', ns);
      let centroPoblado: string | undefined;
      if (cpText !== undefined) {
        const cp = checkCentroPoblado(cpText);
        if (!cp.ok) throw new InputError(`Solicitud no válida: ${where}: ${cp.reason}`);
        if (cp.value.ubigeo.code !== ubigeo.value.code) {
          throw new InputError(`Solicitud no válida: ${where}: el centro poblado ${cp.value.code} no está en el distrito ${ubigeo.value.code}`);
        }
        centroPoblado = cp.value.code;
      }
      const situacion = requiredText(el, 'situacion', ns).toUpperCase();
      if (!(SITUACIONES_BRECHA as readonly string[]).includes(situacion)) {
        throw new InputError(`Solicitud no válida: ${where}: situacion «${situacion.slice(0, 30)}» no válida (${SITUACIONES_BRECHA.join(', ')})`);
      }
      const docEl = (local: string): XmlElement | undefined => {
        const found = children(el, local, ns);
        if (found.length > 1) throw new InputError(`Solicitud no válida: ${where}: el elemento ${local} se repite`);
        return found[0];
      };
      const altEl = docEl('documentoAlterno');
      const alterno = altEl === undefined ? undefined : readDocumento(altEl, ns, `${where}, documentoAlterno`);
      if (alterno?.tipo === 'DNI') {
        throw new InputError(`Solicitud no válida: ${where}: documentoAlterno no puede ser un DNI (quien tiene DNI no es una brecha de identificación; use consultarPersona)`);
      }
      const respEl = docEl('responsable');
      const responsable = respEl === undefined ? undefined : readDocumento(respEl, ns, `${where}, responsable`);
      const clave = [prenombres, primerApellido, segundoApellido ?? '', fechaNacimiento ?? '', ubigeo.value.code].join('|');
      return { prenombres, primerApellido, segundoApellido, sexo, fechaNacimiento, ubigeo: ubigeo.value.code, centroPoblado, situacion, alterno, responsable, clave };
    });
    const { acuse, results } = record(items, client, userId, now);
    let out = `<reportarBrechaIdentificacionResponse xmlns="${ns}"><acuse>${acuse}</acuse><fechaRecepcion>${now.toISOString()}</fechaRecepcion>`;
    results.forEach((r, i) => {
      out += `<resultado><numero>${i + 1}</numero><codigoCaso>${r.codigoCaso}</codigoCaso><estado>${r.estado}</estado></resultado>`;
    });
    return `${out}</reportarBrechaIdentificacionResponse>`;
  };
}
