/**
 * Agreements (convenios) central publishes in the global configuration, which provider nodes
 * enforce per request (node/pipeline/access-decision.ts). Table `agreements` (migration 3 in
 * migrations.ts). `miis-central agreement add|list` writes and reads it; the governance
 * workflows (actas) can create agreements through `addAgreement` too.
 */
import { MiisError } from '../../core/errors.js';
import { VALIDATION_RULES, type GlobalConfAgreement, type GlobalConfValidation } from '../../core/global-conf-model.js';
import { formatMemberId, parseClientId, parseServiceId, serviceKey } from '../../core/identifiers.js';
import type { ChangeContext, RegistryStore } from './store.js';
import { isIsoDate } from '../../core/business-days.js';
import { dayNumberOf, fromDayNumber } from '../../core/iso-date.js';


export type AgreementInput = GlobalConfAgreement;

const AGREEMENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
const PURPOSE = /^[A-Z][A-Z0-9_]{1,39}$/;

const bad = (detail: string): MiisError => new MiisError('Config.InvalidInput', detail);

/** Check an agreement against the registry: provider, clients and services must exist. Returns it normalised. */
export function checkAgreement(store: RegistryStore, a: AgreementInput): GlobalConfAgreement {
  if (!AGREEMENT_ID.test(a.id)) throw bad(`identificador de convenio no válido: «${a.id}» (letras, dígitos, punto, guion; hasta 80)`);
  const provider = formatMemberId(parseClientId(a.provider));
  if (store.getMember(provider) === undefined) throw new MiisError('Config.NotFound', `el miembro proveedor ${provider}`);
  if (a.clients.length === 0) throw bad('indique al menos un cliente (--client)');
  const clients = a.clients.map((c) => {
    const id = parseClientId(c);
    const text = id.subsystemCode === undefined ? formatMemberId(id) : `${formatMemberId(id)}/${id.subsystemCode}`;
    const known = id.subsystemCode === undefined ? store.getMember(text) !== undefined : store.getSubsystem(text) !== undefined;
    if (!known) throw new MiisError('Config.NotFound', `el cliente ${text}`);
    return text;
  });
  if (a.services.length === 0) throw bad('indique al menos un servicio (--service)');
  const registered = new Set(store.listServices().map((s) => serviceKey(parseServiceId(s.id))));
  const services = a.services.map((s) => {
    const key = serviceKey(parseServiceId(s));
    if (!key.startsWith(`${provider}/`)) throw bad(`el servicio ${key} no es del proveedor ${provider}`);
    if (!registered.has(key)) throw new MiisError('Config.NotFound', `el servicio ${key} en el registro central`);
    return key;
  });
  if (a.purposes.length === 0) throw bad('indique al menos una finalidad (--purpose), p. ej. FOCALIZACION');
  for (const p of a.purposes) if (!PURPOSE.test(p)) throw bad(`finalidad no válida: «${p}» (mayúsculas, dígitos y _, p. ej. FOCALIZACION)`);
  if (!isIsoDate(a.validFrom)) throw bad(`fecha de inicio no válida: «${a.validFrom}» (AAAA-MM-DD)`);
  if (a.validUntil !== undefined && (!isIsoDate(a.validUntil) || a.validUntil < a.validFrom)) {
    throw bad(`fecha de fin no válida: «${a.validUntil}» (AAAA-MM-DD, no anterior al inicio)`);
  }
  if (a.maxIdsPerRequest !== undefined && (!Number.isSafeInteger(a.maxIdsPerRequest) || a.maxIdsPerRequest < 1)) {
    throw bad(`máximo de identificadores no válido: ${a.maxIdsPerRequest}`);
  }
  return {
    id: a.id, ...(a.acta === undefined ? {} : { acta: a.acta }), provider,
    clients: [...new Set(clients)].sort(), services: [...new Set(services)].sort(), purposes: [...new Set(a.purposes)].sort(),
    validFrom: a.validFrom, ...(a.validUntil === undefined ? {} : { validUntil: a.validUntil }),
    ...(a.maxIdsPerRequest === undefined ? {} : { maxIdsPerRequest: a.maxIdsPerRequest }),
    ...(a.validations === undefined || a.validations.length === 0 ? {} : { validations: [...a.validations] }),
  };
}

/** Register an agreement (checked against the registry) with its audit row; it is published with the next configuration. */
export function addAgreement(store: RegistryStore, input: AgreementInput, ctx: ChangeContext): GlobalConfAgreement {
  const a = checkAgreement(store, input);
  return store.transaction(() => {
    try {
      store.db.prepare(`INSERT INTO agreements (id, acta, provider, clients_json, services_json, purposes_json, valid_from, valid_until, max_ids, validations_json, created_at)
        VALUES (?,?,?,?,?,?,?,?,?,?,?)`).run(a.id, a.acta ?? null, a.provider, JSON.stringify(a.clients), JSON.stringify(a.services),
        JSON.stringify(a.purposes), a.validFrom, a.validUntil ?? null, a.maxIdsPerRequest ?? null, JSON.stringify(a.validations ?? []), ctx.at.toISOString());
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new MiisError('Config.Duplicate', `el convenio ${a.id}`, { cause: err });
      throw err;
    }
    store.audit(ctx, 'agreement.add', undefined, a);
    return a;
  });
}

interface AgreementRow {
  id: string; acta: string | null; provider: string; clients_json: string; services_json: string; purposes_json: string;
  valid_from: string; valid_until: string | null; max_ids: number | null; validations_json: string; created_at: string;
  ended_on: string | null; end_reason: string | null; ended_at: string | null; ended_by: string | null; superseded_by: string | null; supersedes: string | null;
}

/** An agreement as registered, with how it ended (migration 7): what `agreement list|show` print. */
export interface AgreementRecord {
  /** As registered (validUntil is the one agreed, not the early end). */
  readonly agreement: GlobalConfAgreement;
  readonly createdAt: string;
  /** Last day in force when it was ended early (inclusive), or null. */
  readonly endedOn: string | null;
  readonly endReason: string | null;
  /** When the end was recorded (ISO instant) and by whom. */
  readonly endedAt: string | null;
  readonly endedBy: string | null;
  /** The agreement that replaced this one (acta add --supersedes), and the one this one replaced. */
  readonly supersededBy: string | null;
  readonly supersedes: string | null;
}

const toAgreement = (r: AgreementRow): GlobalConfAgreement => {
  const validations = JSON.parse(r.validations_json) as GlobalConfValidation[];
  return {
    id: r.id, ...(r.acta === null ? {} : { acta: r.acta }), provider: r.provider,
    clients: JSON.parse(r.clients_json) as string[], services: JSON.parse(r.services_json) as string[],
    purposes: JSON.parse(r.purposes_json) as string[], validFrom: r.valid_from,
    ...(r.valid_until === null ? {} : { validUntil: r.valid_until }),
    ...(r.max_ids === null ? {} : { maxIdsPerRequest: r.max_ids }),
    ...(validations.length === 0 ? {} : { validations }),
  };
};

const toRecord = (r: AgreementRow): AgreementRecord => ({
  agreement: toAgreement(r), createdAt: r.created_at, endedOn: r.ended_on, endReason: r.end_reason, endedAt: r.ended_at,
  endedBy: r.ended_by, supersededBy: r.superseded_by, supersedes: r.supersedes,
});

/** Every registered agreement with its history fields, sorted by id (ended ones included). */
export function listAgreementRecords(store: Pick<RegistryStore, 'db'>): AgreementRecord[] {
  return (store.db.prepare('SELECT * FROM agreements ORDER BY id').all() as AgreementRow[]).map(toRecord);
}

export function getAgreementRecord(store: Pick<RegistryStore, 'db'>, id: string): AgreementRecord | undefined {
  const row = store.db.prepare('SELECT * FROM agreements WHERE id = ?').get(id.trim()) as AgreementRow | undefined;
  return row === undefined ? undefined : toRecord(row);
}

export function requireAgreementRecord(store: Pick<RegistryStore, 'db'>, id: string): AgreementRecord {
  const found = getAgreementRecord(store, id);
  if (found === undefined) throw new MiisError('Config.NotFound', `el convenio ${id.trim()}; vea «miis-central agreement list»`);
  return found;
}

/**
 * The agreement as the nodes must apply it: an early end becomes its validUntil; an agreement
 * ended before it started (it never was in force) is left out (undefined).
 */
export function effectiveAgreement(r: AgreementRecord): GlobalConfAgreement | undefined {
  if (r.endedOn === null) return r.agreement;
  if (r.endedOn < r.agreement.validFrom) return undefined;
  const until = r.agreement.validUntil === undefined || r.endedOn < r.agreement.validUntil ? r.endedOn : r.agreement.validUntil;
  return { ...r.agreement, validUntil: until };
}

/** In force today or later (not expired, not ended before today): what blocks removing what it names. */
export function agreementStillApplies(r: AgreementRecord, today: string): boolean {
  const a = effectiveAgreement(r);
  return a !== undefined && (a.validUntil === undefined || a.validUntil >= today);
}

/** Every agreement in global-configuration form, sorted by id, with early ends applied (effectiveAgreement). */
export function listAgreements(store: Pick<RegistryStore, 'db'>): GlobalConfAgreement[] {
  return listAgreementRecords(store).flatMap((r) => effectiveAgreement(r) ?? []);
}

/** The day before a YYYY-MM-DD date. */
export function dayBefore(date: string): string {
  return fromDayNumber(dayNumberOf(date) - 1);
}

export interface AgreementEnd {
  readonly id: string;
  /** Last day in force (inclusive), YYYY-MM-DD. */
  readonly date: string;
  readonly reason: string;
  /** Set when an acta replaces the agreement (actas.ts). */
  readonly supersededBy?: string;
}

/**
 * End an agreement early: it stays in the history with its end date and reason; the next global
 * configuration gives it validUntil = that date (or leaves it out when it never started), so
 * provider nodes refuse it from the configuration that carries the end.
 */
export function endAgreement(store: RegistryStore, end: AgreementEnd, ctx: ChangeContext): AgreementRecord {
  const before = requireAgreementRecord(store, end.id);
  if (!isIsoDate(end.date)) throw bad(`fecha de fin no válida: «${end.date}» (AAAA-MM-DD, último día de vigencia)`);
  const reason = end.reason.trim();
  if (reason === '' || reason.length > 1000 || /[\u0000-\u0008\u000b-\u001f]/.test(reason)) throw bad('indique el motivo del fin anticipado (--reason, hasta 1000 caracteres)');
  const a = before.agreement;
  if (before.endedOn !== null) {
    throw bad(`el convenio ${a.id} ya terminó el ${before.endedOn} (${before.endReason ?? '-'}${before.supersededBy === null ? '' : `; lo reemplaza ${before.supersededBy}`})`);
  }
  if (a.validUntil !== undefined && end.date > a.validUntil) {
    throw bad(`el convenio ${a.id} vence el ${a.validUntil}; no se puede terminar después (${end.date}): para ampliarlo registre un acta nueva con --supersedes ${a.id}`);
  }
  if (end.date < dayBefore(a.validFrom)) {
    throw bad(`el convenio ${a.id} rige desde el ${a.validFrom}; la fecha de fin ${end.date} es anterior (use a lo sumo el ${dayBefore(a.validFrom)} para que nunca rija)`);
  }
  return store.transaction(() => {
    store.db.prepare('UPDATE agreements SET ended_on = ?, end_reason = ?, ended_at = ?, ended_by = ?, superseded_by = ? WHERE id = ?')
      .run(end.date, reason, ctx.at.toISOString(), ctx.actor, end.supersededBy ?? null, a.id);
    const after = requireAgreementRecord(store, a.id);
    store.audit(ctx, 'agreement.end', { id: a.id, validUntil: a.validUntil ?? null }, { id: a.id, endedOn: end.date, reason, supersededBy: end.supersededBy ?? null });
    return after;
  });
}

/** Record that `id` replaces `previous` (the history chain of an acta that supersedes an agreement). */
export function markSupersedes(store: RegistryStore, id: string, previous: string): void {
  store.db.prepare('UPDATE agreements SET supersedes = ? WHERE id = ?').run(previous, id);
}

/** The chain an agreement belongs to, oldest first (supersedes … → id → … supersededBy). */
export function agreementChain(store: Pick<RegistryStore, 'db'>, id: string): AgreementRecord[] {
  const start = requireAgreementRecord(store, id);
  const chain = [start];
  const seen = new Set([start.agreement.id]);
  for (let r = start; r.supersedes !== null && !seen.has(r.supersedes);) {
    const prev = getAgreementRecord(store, r.supersedes);
    if (prev === undefined) break;
    chain.unshift(prev);
    seen.add(prev.agreement.id);
    r = prev;
  }
  for (let r = start; r.supersededBy !== null && !seen.has(r.supersededBy);) {
    const next = getAgreementRecord(store, r.supersededBy);
    if (next === undefined) break;
    chain.push(next);
    seen.add(next.agreement.id);
    r = next;
  }
  return chain;
}

/** Parse the CLI form `field:rule` or `field:pattern:REGEX`. Returns a Spanish error string on failure. */
export function parseValidationSpec(spec: string): GlobalConfValidation | string {
  const m = /^([A-Za-z_][A-Za-z0-9_.-]{0,63}):([a-z-]+)(?::(.+))?$/.exec(spec);
  if (m === null) return `validación no válida «${spec}» (use campo:regla, p. ej. dni:dni o codigo:pattern:[0-9]{6})`;
  const rule = m[2] as GlobalConfValidation['rule'];
  const rules: readonly GlobalConfValidation['rule'][] = VALIDATION_RULES;
  if (!rules.includes(rule)) return `regla desconocida «${m[2]}»; use una de: ${rules.join(', ')}`;
  if (rule === 'pattern') {
    if (m[3] === undefined) return `la regla pattern necesita una expresión: ${m[1]}:pattern:EXPRESIÓN`;
    try {
      new RegExp(m[3], 'u');
    } catch {
      return `expresión regular no válida: «${m[3]}»`;
    }
    return { field: m[1] as string, rule, pattern: m[3] };
  }
  if (m[3] !== undefined) return `la regla ${rule} no lleva parámetros`;
  return { field: m[1] as string, rule };
}
