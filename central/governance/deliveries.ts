/**
 * Batch deliveries (lotes) and the periodicity the actas fix for them: provider nodes report each
 * batch whose last chunk is done (`POST /entregas-lote`, signed with the provider member's key,
 * checked like a node's access request: core/delivery-report.ts); table `batch_deliveries`
 * (migration 14). `deliverySchedule` tells, per published trama with a periodicity and per client
 * of its agreement, whether the previous period's delivery came on time, late or not at all, and
 * whether the current period's is done or still due (`miis-central trama entregas`). Periods that
 * ended before the trama was registered owe nothing; a late delivery counts for the period it was
 * owed to only.
 */
import { MiisError } from '../../core/errors.js';
import { readSignedDeliveryReport, DELIVERY_REPORT_REFERENCE, type DeliveryReport } from '../../core/delivery-report.js';
import type { GlobalConfTrama } from '../../core/global-conf-model.js';
import { formatMemberId, parseClientId, parseServiceId, serviceKey } from '../../core/identifiers.js';
import { dayNumberOf, fromDayNumber, limaDate } from '../../core/iso-date.js';
import { certificateInfo, verifyChain } from '../../core/pki.js';
import { verifyDetached } from '../../core/signature.js';
import { listAgreements } from '../registry/agreements.js';
import { SETTING } from '../registry/rules.js';
import type { RegistryStore } from '../registry/store.js';
import { listTramaVersions, tramasForConf } from '../registry/tramas.js';

export const MAX_REPORT_SKEW_MS = 10 * 60_000;

/** Check and record a provider node's signed delivery report (idempotent per provider, batch and client). */
export function receiveDeliveryReport(store: RegistryStore, body: Buffer, now: Date): DeliveryReport {
  const { bytes, report, signature } = readSignedDeliveryReport(body);
  const verdict = verifyDetached(bytes, signature, DELIVERY_REPORT_REFERENCE);
  if (!verdict.ok) throw new MiisError('Config.InvalidCertificate', `la firma del informe no es válida: ${verdict.reason}`);
  const caPem = store.getSetting(SETTING.caCertPem);
  if (caPem === undefined) throw new MiisError('Config.NotInitialized', 'el directorio central no tiene CA');
  const chain = verifyChain(verdict.certPem, [caPem], now);
  if (!chain.ok) throw new MiisError('Config.InvalidCertificate', chain.reason);
  const info = certificateInfo(verdict.certPem);
  let provider: string;
  let service: string;
  try {
    provider = formatMemberId(parseClientId(report.provider));
    service = serviceKey(parseServiceId(report.service));
  } catch (err) {
    throw new MiisError('Config.InvalidInput', `informe de entrega no válido: ${(err as Error).message}`, { cause: err });
  }
  if (info.profile !== 'sign' || info.subjectSerialNumber !== provider) throw new MiisError('Config.InvalidCertificate', `el informe debe firmarlo el proveedor ${provider} con su certificado de firma`);
  if (!store.listIssuedCerts().some((c) => c.sha256 === verdict.certSha256)) throw new MiisError('Config.InvalidCertificate', 'el certificado de firma no fue emitido por este directorio central');
  if (!service.startsWith(`${provider}/`)) throw new MiisError('Config.InvalidInput', `el servicio ${service} no es del proveedor ${provider}`);
  const created = Date.parse(report.createdAt);
  if (!Number.isFinite(created) || Math.abs(created - now.getTime()) > MAX_REPORT_SKEW_MS) throw new MiisError('Config.InvalidInput', `el informe tiene la fecha ${report.createdAt}, fuera de ±10 minutos del reloj de central`);
  if (!Number.isFinite(Date.parse(report.completedAt)) || !Number.isFinite(Date.parse(report.receivedAt))) throw new MiisError('Config.InvalidInput', 'informe de entrega no válido: fechas');
  store.db.prepare(`INSERT INTO batch_deliveries (provider, batch_id, client, service, agreement, trama_id, trama_version, file_sha256, records, chunks, received_at, completed_at, reported_at, signer_sha256)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`).run(provider, report.batchId, report.client, service, report.convenio, report.trama.id, report.trama.version,
    report.fileSha256, report.records, report.chunks, report.receivedAt, report.completedAt, now.toISOString(), verdict.certSha256);
  return report;
}

/** The period of `periodicity` that contains `day` (YYYY-MM-DD): first and last day. */
export function periodOf(periodicity: NonNullable<GlobalConfTrama['periodicity']>, day: string): { start: string; end: string } {
  const [y, m] = [Number(day.slice(0, 4)), Number(day.slice(5, 7))];
  const monthStart = (yy: number, mm: number): string => `${yy}-${String(mm).padStart(2, '0')}-01`;
  const span = (months: number): { start: string; end: string } => {
    const first = Math.floor((m - 1) / months) * months + 1;
    const nextY = first + months > 12 ? y + 1 : y;
    const nextM = first + months > 12 ? first + months - 12 : first + months;
    return { start: monthStart(y, first), end: fromDayNumber(dayNumberOf(monthStart(nextY, nextM)) - 1) };
  };
  switch (periodicity) {
    case 'diaria': return { start: day, end: day };
    case 'semanal': {
      const n = dayNumberOf(day);
      const weekday = (new Date(`${day}T12:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
      return { start: fromDayNumber(n - weekday), end: fromDayNumber(n - weekday + 6) };
    }
    case 'mensual': return span(1);
    case 'trimestral': return span(3);
    case 'semestral': return span(6);
    case 'anual': return span(12);
  }
}

export interface DeliveryRow {
  readonly trama: string;
  readonly service: string;
  readonly agreement: string;
  readonly client: string;
  readonly periodicity: string;
  readonly period: string;
  /** a-tiempo | tarde | no-entregado (a past period); entregado | pendiente (the current one). */
  readonly status: 'a-tiempo' | 'tarde' | 'no-entregado' | 'entregado' | 'pendiente';
  readonly dueAt: string;
  readonly deliveredAt: string | null;
}

/** Per trama with a periodicity and client of its agreement: the previous period and the current one. */
export function deliverySchedule(store: RegistryStore, today: string): DeliveryRow[] {
  const agreements = new Map(listAgreements(store).map((a) => [a.id, a]));
  const rows: DeliveryRow[] = [];
  // the obligation starts with the trama's registration: earlier periods are not listed
  const since = new Map<string, string>();
  for (const v of listTramaVersions(store)) if (!since.has(v.trama.id)) since.set(v.trama.id, limaDate(new Date(v.createdAt)));
  const byTrama = store.db.prepare('SELECT client, completed_at FROM batch_deliveries WHERE trama_id = ? ORDER BY completed_at');
  for (const t of tramasForConf(store)) {
    if (t.periodicity === undefined) continue;
    const a = agreements.get(t.agreement);
    if (a === undefined) continue;
    const done = (byTrama.all(t.id) as { client: string; completed_at: string }[]).map((d) => ({ client: d.client, day: limaDate(new Date(d.completed_at)) }));
    const current = periodOf(t.periodicity, today);
    const previous = periodOf(t.periodicity, fromDayNumber(dayNumberOf(current.start) - 1));
    for (const client of a.clients) {
      const mine = done.filter((d) => d.client === client || d.client.startsWith(`${client}/`));
      const within = (p: { start: string; end: string }) => mine.find((d) => d.day >= p.start && d.day <= p.end);
      const base = { trama: `${t.id} v${t.version}`, service: t.service, agreement: t.agreement, client, periodicity: t.periodicity };
      const prev = within(previous);
      const owed = previous.end >= (since.get(t.id) ?? '');
      // a late delivery counts for the period it was owed to, not for the current one as well
      const late = prev === undefined && owed ? mine.find((d) => d.day > previous.end) : undefined;
      if (owed) rows.push({ ...base, period: `${previous.start} a ${previous.end}`, dueAt: previous.end, status: prev !== undefined ? 'a-tiempo' : late !== undefined ? 'tarde' : 'no-entregado', deliveredAt: (prev ?? late)?.day ?? null });
      const cur = mine.find((d) => d !== late && d.day >= current.start && d.day <= current.end);
      rows.push({ ...base, period: `${current.start} a ${current.end}`, dueAt: current.end, status: cur !== undefined ? 'entregado' : 'pendiente', deliveredAt: cur?.day ?? null });
    }
  }
  return rows;
}
