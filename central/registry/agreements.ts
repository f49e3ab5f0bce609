/**
 * Agreements (convenios) central publishes in the global configuration, which provider nodes
 * enforce per request (node/pipeline/access-decision.ts). Table `agreements` (migration 3 in
 * migrations.ts). `miis-central agreement add|list` writes and reads it; the governance
 * workflows (actas) can create agreements through `addAgreement` too.
 */
import { MiisError } from '../../core/errors.js';
import type { GlobalConfAgreement, GlobalConfValidation } from '../../core/global-conf-model.js';
import { formatMemberId, parseClientId, parseServiceId, serviceKey } from '../../core/identifiers.js';
import type { ChangeContext, RegistryStore } from './store.js';
import { isIsoDate } from '../../core/business-days.js';


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
  valid_from: string; valid_until: string | null; max_ids: number | null; validations_json: string;
}

/** Every registered agreement, sorted by id, in global-configuration form. */
export function listAgreements(store: Pick<RegistryStore, 'db'>): GlobalConfAgreement[] {
  const rows = store.db.prepare('SELECT * FROM agreements ORDER BY id').all() as AgreementRow[];
  return rows.map((r) => {
    const validations = JSON.parse(r.validations_json) as GlobalConfValidation[];
    return {
      id: r.id, ...(r.acta === null ? {} : { acta: r.acta }), provider: r.provider,
      clients: JSON.parse(r.clients_json) as string[], services: JSON.parse(r.services_json) as string[],
      purposes: JSON.parse(r.purposes_json) as string[], validFrom: r.valid_from,
      ...(r.valid_until === null ? {} : { validUntil: r.valid_until }),
      ...(r.max_ids === null ? {} : { maxIdsPerRequest: r.max_ids }),
      ...(validations.length === 0 ? {} : { validations }),
    };
  });
}

/** Parse the CLI form `field:rule` or `field:pattern:REGEX`. Returns a Spanish error string on failure. */
export function parseValidationSpec(spec: string): GlobalConfValidation | string {
  const m = /^([A-Za-z_][A-Za-z0-9_.-]{0,63}):([a-z-]+)(?::(.+))?$/.exec(spec);
  if (m === null) return `validación no válida «${spec}» (use campo:regla, p. ej. dni:dni o codigo:pattern:[0-9]{6})`;
  const rule = m[2] as GlobalConfValidation['rule'];
  const rules: readonly GlobalConfValidation['rule'][] = ['required', 'dni', 'ruc', 'carne-extranjeria', 'ubigeo-inei', 'ubigeo-reniec', 'centro-poblado', 'pattern'];
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
