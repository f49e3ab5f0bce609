/**
 * Actas (directive 7.1.4, Anexo Nº 02): the signed record of what a meeting agreed per service —
 * the trama (fields, types, required), periodicity, form of exchange and minimum validations —
 * numbered ACTA Nº NN-YYYY-MIDIS/DGFO. Every participant of the meeting signs, and 7.1.4 names
 * the Director of the Dirección General de Focalización among the signers: an acta is drafted only
 * for a meeting where the Director took part (a MIDIS participant whose post is the Director's,
 * isDgfoDirector) and is never 'firmada' without the Director's signature. Once all have signed
 * the acta is 'firmada' and, when it names clients, its agreement (convenio) is registered
 * through central/registry/agreements.ts and published in the global configuration.
 */
import { MiisError } from '../../core/errors.js';
import { parseIsoDate } from '../../core/business-days.js';
import type { GlobalConfValidation } from '../../core/global-conf-model.js';
import { formatServiceId, parseServiceId } from '../../core/identifiers.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { addAgreement, dayBefore, endAgreement, getAgreementRecord, markSupersedes, parseValidationSpec, requireAgreementRecord } from '../registry/agreements.js';
import { serviceWithoutVersion } from '../registry/access-rights.js';
import { requireMeeting, type Participant } from './meetings.js';
import { change, checkText, fromJsonColumn, toJsonColumn, type Row } from './util.js';

export const EXCHANGE_FORMS = ['medio-fisico-periodico', 'transferencia-archivos', 'servicio-web'] as const;
export type ExchangeForm = (typeof EXCHANGE_FORMS)[number];
export const EXCHANGE_FORM_LABELS: Readonly<Record<ExchangeForm, string>> = {
  'medio-fisico-periodico': 'Medio físico, periódicamente',
  'transferencia-archivos': 'Periodicidad variable vía transferencia de archivos (FTP/SFTP)',
  'servicio-web': 'Tiempo real vía servicio web',
};

export interface TramaField {
  readonly field: string;
  readonly type: string;
  readonly required: boolean;
  readonly description?: string;
}

export interface ActaService {
  readonly service: string;
  readonly requestTrama: readonly TramaField[];
  readonly responseTrama: readonly TramaField[];
  readonly periodicity: string;
  readonly exchangeForm: ExchangeForm;
  /** Minimum validations, in the `campo:regla` form of agreements (e.g. dni:dni). */
  readonly validations: readonly GlobalConfValidation[];
}

export interface Signature {
  readonly name: string;
  readonly post: string;
  readonly side: Participant['side'];
  readonly signedAt: string;
}

export interface ActaRecord {
  readonly number: string;
  readonly seq: number;
  readonly year: number;
  readonly meetingId: number;
  readonly entityRuc: string;
  readonly services: readonly ActaService[];
  readonly clients: readonly string[];
  readonly purposes: readonly string[];
  readonly validFrom: string;
  readonly validUntil: string | null;
  readonly signatures: readonly Signature[];
  readonly status: 'borrador' | 'firmada';
  readonly agreementId: string | null;
  /** The agreement this acta replaces once signed (acta add --supersedes; migration 7). */
  readonly supersedes: string | null;
  readonly createdAt: string;
}

/** What `acta add --file` reads (JSON). */
export interface ActaInput {
  readonly services: readonly {
    service: string;
    requestTrama?: readonly TramaField[];
    responseTrama?: readonly TramaField[];
    periodicity: string;
    exchangeForm: string;
    validations?: readonly string[];
  }[];
  /** Clients of the agreement (subsystems or members); none = the acta records standards only. */
  readonly clients?: readonly string[];
  readonly purposes?: readonly string[];
  readonly validFrom?: string;
  readonly validUntil?: string;
  /** Agreement id (default ACTA-NN-YYYY). */
  readonly convenio?: string;
  /** An agreement id or acta number this acta replaces (acta add --supersedes). */
  readonly supersedes?: string;
}

/**
 * The Director of the Dirección General de Focalización (7.1.4): a MIDIS participant whose post is
 * "Director(a)", "Director(a) General de Focalización", "Director(a) de la Dirección General de
 * Focalización" or "Director(a) DGFO" (the Director of another unit, e.g. Diseño de Focalización, is not).
 */
const DGFO_DIRECTOR_POST = /^director(a)?(\s+general)?(\s+de\s+(la\s+)?(direcci[oó]n\s+general\s+de\s+)?focalizaci[oó]n)?(\s*\(?dgfo\)?)?$/i;
export const DGFO_DIRECTOR = 'Director General de Focalización';

export function isDgfoDirector(p: Pick<Participant, 'side' | 'post'>): boolean {
  return p.side === 'MIDIS' && DGFO_DIRECTOR_POST.test(p.post.trim().replace(/\s+/g, ' '));
}

/**
 * An acta an agreement cites (agreement add --acta): when it is one of the registry's actas it must be
 * signed by everyone, the DGFO Director included (7.1.4); an acta kept elsewhere is taken as cited.
 */
export function checkCitedActa(store: RegistryStore, ref: string): void {
  if (!/\d{1,3}-\d{4}/.test(ref)) return;
  const acta = getActa(store, ref);
  if (acta === undefined || acta.status === 'firmada') return;
  const director = acta.signatures.some((s) => isDgfoDirector(s));
  throw new MiisError('Config.InvalidInput', `el ${acta.number} no está firmada (${plural(acta.signatures.length)})${director ? '' : `; falta la firma del ${DGFO_DIRECTOR} (7.1.4)`}: un convenio no rige con un acta sin firmar; complete las firmas con «miis-central acta sign»`);
}

const plural = (n: number): string => `${n} ${n === 1 ? 'firma' : 'firmas'}`;

export function formatActaNumber(seq: number, year: number): string {
  return `ACTA Nº ${String(seq).padStart(2, '0')}-${year}-MIDIS/DGFO`;
}

const toActa = (r: Row): ActaRecord => ({
  number: r.number as string,
  seq: Number(r.seq),
  year: Number(r.year),
  meetingId: Number(r.meeting_id),
  entityRuc: r.entity_ruc as string,
  services: fromJsonColumn<ActaService[]>(r.services_json),
  clients: fromJsonColumn<string[]>(r.clients_json),
  purposes: fromJsonColumn<string[]>(r.purposes_json),
  validFrom: r.valid_from as string,
  validUntil: (r.valid_until as string | null) ?? null,
  signatures: fromJsonColumn<Signature[]>(r.signatures_json),
  status: r.status as ActaRecord['status'],
  agreementId: (r.agreement_id as string | null) ?? null,
  supersedes: (r.supersedes as string | null) ?? null,
  createdAt: r.created_at as string,
});

/** Accepts "ACTA Nº 01-2026-MIDIS/DGFO", "01-2026" or "1-2026". */
export function normaliseActaNumber(ref: string): string {
  const m = /(\d{1,3})-(\d{4})/.exec(ref);
  if (m === null) throw new MiisError('Config.InvalidInput', `número de acta no válido: «${ref}» (p. ej. 01-2026 o "ACTA Nº 01-2026-MIDIS/DGFO")`);
  return formatActaNumber(Number(m[1]), Number(m[2]));
}

export function getActa(store: RegistryStore, ref: string): ActaRecord | undefined {
  const row = store.db.prepare('SELECT * FROM gov_actas WHERE number = ?').get(normaliseActaNumber(ref)) as Row | undefined;
  return row === undefined ? undefined : toActa(row);
}

export function requireActa(store: RegistryStore, ref: string): ActaRecord {
  const a = getActa(store, ref);
  if (a === undefined) throw new MiisError('Config.NotFound', `el acta ${ref}; vea «miis-central acta list»`);
  return a;
}

export function listActas(store: RegistryStore): ActaRecord[] {
  return (store.db.prepare('SELECT * FROM gov_actas ORDER BY year, seq').all() as Row[]).map(toActa);
}

function checkTrama(fields: readonly TramaField[] | undefined, what: string): TramaField[] {
  return (fields ?? []).map((f, i) => {
    if (typeof f !== 'object' || f === null || typeof f.field !== 'string' || typeof f.type !== 'string') {
      throw new MiisError('Config.InvalidInput', `${what}, campo ${i + 1}: se espera {"field": "dni", "type": "texto(8)", "required": true}`);
    }
    return {
      field: checkText(f.field, `${what}: nombre del campo`, 80),
      type: checkText(f.type, `${what}: tipo del campo ${f.field}`, 60),
      required: f.required === true,
      ...(typeof f.description === 'string' && f.description.trim() !== '' ? { description: checkText(f.description, 'descripción del campo', 300) } : {}),
    };
  });
}

function checkActaService(store: RegistryStore, s: ActaInput['services'][number], entityRuc: string): ActaService {
  const serviceId = formatServiceId(parseServiceId(String(s.service ?? '').trim()));
  if (store.getService(serviceId) === undefined) throw new MiisError('Config.NotFound', `el servicio ${serviceId} no está registrado; regístrelo con «miis-central service add»`);
  if (parseServiceId(serviceId).memberCode !== entityRuc) throw new MiisError('Config.InvalidInput', `el servicio ${serviceId} no es de la entidad de la reunión (RUC ${entityRuc})`);
  const form = String(s.exchangeForm ?? '').trim();
  if (!(EXCHANGE_FORMS as readonly string[]).includes(form)) {
    throw new MiisError('Config.InvalidInput', `forma de intercambio no válida para ${serviceId}: «${form}». Valores admitidos: ${EXCHANGE_FORMS.join(', ')}`);
  }
  const requestTrama = checkTrama(s.requestTrama, `trama de solicitud de ${serviceId}`);
  if (requestTrama.length === 0) throw new MiisError('Config.InvalidInput', `falta la trama de solicitud de ${serviceId} (requestTrama)`);
  const validations = (s.validations ?? []).map((v) => {
    const parsed = parseValidationSpec(String(v));
    if (typeof parsed === 'string') throw new MiisError('Config.InvalidInput', parsed);
    return parsed;
  });
  return {
    service: serviceId,
    requestTrama,
    responseTrama: checkTrama(s.responseTrama, `trama de resultado de ${serviceId}`),
    periodicity: checkText(s.periodicity, `periodicidad de ${serviceId}`, 200),
    exchangeForm: form as ExchangeForm,
    validations,
  };
}

/**
 * The agreement an acta replaces, from an agreement id or an acta number: it must be the same
 * provider's, not ended yet, and start before the new acta does (the old one ends the day before).
 */
function resolveSuperseded(store: RegistryStore, ref: string, entityRuc: string, hasClients: boolean, validFrom: string): string {
  if (!hasClients) throw new MiisError('Config.InvalidInput', 'un acta sin clientes no registra convenio y no puede reemplazar otro (--supersedes): indique "clients"');
  const text = ref.trim();
  let record = getAgreementRecord(store, text);
  if (record === undefined && /\d{1,3}-\d{4}/.test(text)) {
    const acta = getActa(store, text);
    if (acta === undefined) throw new MiisError('Config.NotFound', `el convenio o acta «${text}» que se reemplaza; vea «miis-central agreement list»`);
    if (acta.agreementId === null || acta.status !== 'firmada') throw new MiisError('Config.InvalidInput', `el ${acta.number} no tiene convenio registrado (está «${acta.status}»)`);
    record = getAgreementRecord(store, acta.agreementId);
  }
  if (record === undefined) throw new MiisError('Config.NotFound', `el convenio o acta «${text}» que se reemplaza; vea «miis-central agreement list»`);
  const a = record.agreement;
  if (a.provider.split('/')[2] !== entityRuc) throw new MiisError('Config.InvalidInput', `el convenio ${a.id} es del proveedor ${a.provider}, no de la entidad de la reunión (RUC ${entityRuc})`);
  if (record.endedOn !== null) throw new MiisError('Config.InvalidInput', `el convenio ${a.id} ya terminó el ${record.endedOn}`);
  if (validFrom <= a.validFrom) throw new MiisError('Config.InvalidInput', `el acta nueva rige desde el ${validFrom}, pero el convenio ${a.id} que reemplaza empezó el ${a.validFrom}: la nueva debe empezar después`);
  if (a.validUntil !== undefined && dayBefore(validFrom) > a.validUntil) {
    throw new MiisError('Config.InvalidInput', `el convenio ${a.id} vence el ${a.validUntil}, antes de que rija el acta nueva (${validFrom}): no hace falta reemplazarlo`);
  }
  const pending = listActas(store).find((x) => x.supersedes === a.id && x.status === 'borrador');
  if (pending !== undefined) throw new MiisError('Config.Duplicate', `el ${pending.number} (borrador) ya reemplaza al convenio ${a.id}`);
  return a.id;
}

/** Draft an acta for a meeting; numbered in the meeting's year. Needs participants of both sides. */
export function addActa(store: RegistryStore, meetingId: number, input: ActaInput, ctx: ChangeContext): ActaRecord {
  const meeting = requireMeeting(store, meetingId);
  const midis = meeting.participants.filter((p) => p.side === 'MIDIS');
  const entity = meeting.participants.filter((p) => p.side === 'ENTIDAD');
  if (midis.length === 0 || entity.length === 0) {
    throw new MiisError('Config.InvalidInput', `la reunión ${meeting.id} no tiene participantes ${midis.length === 0 ? 'del MIDIS' : 'de la entidad'}; un acta los necesita (Anexo Nº 02, I. Participantes): registre la reunión con --participant "MIDIS|Nombre|Cargo" y --participant "ENTIDAD|Nombre|Cargo"`);
  }
  if (!midis.some(isDgfoDirector)) {
    throw new MiisError('Config.InvalidInput', `la reunión ${meeting.id} no tiene entre sus participantes al ${DGFO_DIRECTOR}, que firma el acta (7.1.4); participantes del MIDIS: ${midis.map((p) => `${p.name} (${p.post})`).join(', ')}. Regístrelo en la reunión con --participant "MIDIS|Nombre|${DGFO_DIRECTOR}"`);
  }
  if (!Array.isArray(input.services) || input.services.length === 0) throw new MiisError('Config.InvalidInput', 'el acta no define ningún servicio ("services": [...])');
  const services = input.services.map((s) => checkActaService(store, s, meeting.entityRuc));
  const clients = [...(input.clients ?? [])].map((c) => String(c).trim());
  const purposes = [...(input.purposes ?? (clients.length > 0 ? ['FOCALIZACION'] : []))].map((p) => String(p).trim().toUpperCase());
  const validFrom = parseIsoDate(input.validFrom ?? meeting.date);
  const validUntil = input.validUntil === undefined ? null : parseIsoDate(input.validUntil);
  if (listActas(store).some((a) => a.meetingId === meeting.id)) {
    throw new MiisError('Config.Duplicate', `un acta de la reunión ${meeting.id}`);
  }
  const supersedes = input.supersedes === undefined ? null : resolveSuperseded(store, input.supersedes, meeting.entityRuc, clients.length > 0, validFrom);
  const year = Number(meeting.date.slice(0, 4));
  return change(store, ctx, 'acta.add', () => {
    const row = store.db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM gov_actas WHERE year = ?').get(year) as { s: number };
    const seq = row.s + 1;
    const number = formatActaNumber(seq, year);
    const agreementId = input.convenio === undefined ? null : checkText(input.convenio, 'convenio', 80);
    if (supersedes !== null && agreementId === supersedes) throw new MiisError('Config.InvalidInput', `el convenio del acta nueva no puede llamarse como el que reemplaza (${supersedes}): use otro "convenio"`);
    store.db
      .prepare("INSERT INTO gov_actas (number, seq, year, meeting_id, entity_ruc, services_json, clients_json, purposes_json, valid_from, valid_until, signatures_json, status, agreement_id, supersedes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', 'borrador', ?, ?, ?)")
      .run(number, seq, year, meeting.id, meeting.entityRuc, toJsonColumn(services), toJsonColumn(clients), toJsonColumn(purposes), validFrom, validUntil, agreementId, supersedes, ctx.at.toISOString());
    const record = getActa(store, number)!;
    return { after: record, result: record };
  });
}

/** A participant signs. When every participant has signed, the acta is 'firmada' and its agreement registered. */
export function signActa(store: RegistryStore, ref: string, input: { signer: string; signedAt: string }, ctx: ChangeContext): ActaRecord {
  const before = requireActa(store, ref);
  const signedAt = parseIsoDate(input.signedAt.trim());
  if (before.status === 'firmada') throw new MiisError('Config.InvalidInput', `el ${before.number} ya está firmada por todos los participantes`);
  const meeting = requireMeeting(store, before.meetingId);
  if (signedAt < meeting.date) throw new MiisError('Config.InvalidInput', `la fecha de firma ${signedAt} es anterior a la reunión (${meeting.date})`);
  const norm = (s: string): string => s.trim().toLowerCase();
  const participant = meeting.participants.find((p) => norm(p.name) === norm(input.signer));
  if (participant === undefined) {
    throw new MiisError('Config.InvalidInput', `«${input.signer}» no participó en la reunión ${meeting.id}; firman: ${meeting.participants.map((p) => p.name).join(', ')}`);
  }
  if (before.signatures.some((s) => norm(s.name) === norm(participant.name))) throw new MiisError('Config.Duplicate', `la firma de ${participant.name} en el ${before.number}`);
  const signatures = [...before.signatures, { name: participant.name, post: participant.post, side: participant.side, signedAt }];
  // everyone signs, and the DGFO Director (7.1.4) in any case
  const complete = meeting.participants.every((p) => signatures.some((s) => norm(s.name) === norm(p.name))) && signatures.some((s) => isDgfoDirector(s));
  return change(store, ctx, complete ? 'acta.sign.complete' : 'acta.sign', () => {
    let agreementId = before.agreementId;
    if (complete && before.clients.length > 0) {
      agreementId ??= `ACTA-${String(before.seq).padStart(2, '0')}-${before.year}`;
      const provider = store.listMembers().find((m) => m.memberCode === before.entityRuc);
      if (provider === undefined) throw new MiisError('Config.NotFound', `el miembro del MIIS con RUC ${before.entityRuc} (proveedor del convenio del acta); regístrelo con «member add»`);
      addAgreement(store, {
        id: agreementId,
        acta: before.number,
        provider: provider.id,
        clients: before.clients,
        services: before.services.map((s) => serviceWithoutVersion(s.service)),
        purposes: before.purposes,
        validFrom: before.validFrom,
        ...(before.validUntil === null ? {} : { validUntil: before.validUntil }),
        validations: before.services.flatMap((s) => s.validations),
      }, ctx);
      if (before.supersedes !== null) {
        const previous = requireAgreementRecord(store, before.supersedes);
        if (previous.endedOn !== null) {
          throw new MiisError('Config.InvalidInput', `el convenio ${previous.agreement.id} que esta acta reemplaza ya terminó el ${previous.endedOn}; redacte el acta sin --supersedes`);
        }
        endAgreement(store, { id: previous.agreement.id, date: dayBefore(before.validFrom), reason: `Reemplazado por el ${before.number} (convenio ${agreementId})`, supersededBy: agreementId }, ctx);
        markSupersedes(store, agreementId, previous.agreement.id);
      }
    }
    store.db
      .prepare('UPDATE gov_actas SET signatures_json = ?, status = ?, agreement_id = ? WHERE number = ?')
      .run(toJsonColumn(signatures), complete ? 'firmada' : 'borrador', complete ? agreementId : before.agreementId, before.number);
    const after = getActa(store, before.number)!;
    return { before, after, result: after };
  });
}
