import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, createStateLog, lineLogger, parseLogFormat } from '../../runtime/log.js';
import { createNodeMonitor, type MonitorSources } from '../../node/ops/monitor.js';

function capture(): { lines: () => Record<string, unknown>[]; write: (l: string) => void } {
  const raw: string[] = [];
  return { write: (l) => void raw.push(l), lines: () => raw.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('runtime/log', () => {
  it('writes JSON lines with time (from the injected clock), level, component and msg', () => {
    const c = capture();
    const log = createLogger({ component: 'node', bindings: { node: 'reniec' }, write: c.write, now: () => new Date('2026-03-02T10:00:00.000Z') });
    log.info({ messageId: 'm-1', client: 'PE/GOB/1/A', service: 'PE/GOB/2/B/s' }, 'intercambio');
    log.warn('cuidado');
    const [a, b] = c.lines();
    assert.equal(a!.time, '2026-03-02T10:00:00.000Z');
    assert.equal(a!.level, 'info');
    assert.equal(a!.component, 'node');
    assert.equal(a!.node, 'reniec');
    assert.equal(a!.msg, 'intercambio');
    assert.equal(a!.messageId, 'm-1');
    assert.equal(a!.client, 'PE/GOB/1/A');
    assert.equal(a!.service, 'PE/GOB/2/B/s');
    assert.equal(b!.level, 'warn');
    assert.equal(a!.pid, undefined, 'no pid/hostname noise');
  });

  it('redacts secret-bearing fields', () => {
    const c = capture();
    createLogger({ component: 'node', write: c.write }).info({ adapter: { password: 'p4ss' } }, 'x');
    assert.doesNotMatch(JSON.stringify(c.lines()), /p4ss/);
  });

  it('maps legacy lines to levels', () => {
    const c = capture();
    const info = lineLogger(createLogger({ component: 'node', write: c.write }));
    info('aviso: OCSP sin respuesta');
    info('error interno x');
    info('configuración global actualizada');
    assert.deepEqual(c.lines().map((l) => l.level), ['warn', 'error', 'info']);
  });

  it('pretty format renders readable text, and an unknown format is refused in Spanish', () => {
    let out = '';
    createLogger({ component: 'central', format: 'pretty', write: (l) => { out += l; } }).info('directorio iniciado');
    assert.match(out, /INFO.*directorio iniciado/);
    assert.throws(() => JSON.parse(out));
    assert.throws(() => parseLogFormat('xml'), /formato de registro no válido: «xml»/);
  });

  it('a state log writes one line per change, not per check', () => {
    const c = capture();
    const states = createStateLog(createLogger({ component: 'node', write: c.write }));
    for (const s of ['ok', 'down', 'down', 'down', 'ok', 'ok']) states.set('tsa', s, { level: s === 'ok' ? 'info' : 'warn', msg: `tsa ${s}` });
    assert.deepEqual(c.lines().map((l) => [l.event, l.state, l.msg]), [['tsa', 'down', 'tsa down'], ['tsa', 'ok', 'tsa ok']]);
  });
});

describe('node monitor', () => {
  it('configuration expiry with an injected clock: exactly one line, and one when restored', () => {
    const c = capture();
    let t = Date.parse('2026-03-02T10:00:00Z');
    let expiresAtMs = t + 60_000;
    const src: MonitorSources = {
      now: () => new Date(t), conf: () => ({ expiresAtMs, serial: 7 }), confError: () => undefined, tsa: () => undefined,
      evidenceGate: () => undefined, ocspDown: () => false, certificates: () => [], probeDatabase: () => undefined,
    };
    const monitor = createNodeMonitor(createLogger({ component: 'node', write: c.write, now: () => new Date(t) }), src);
    monitor.check();
    assert.equal(c.lines().length, 0, 'nothing to say while all is well');
    assert.deepEqual(monitor.readiness(), { ok: true, reasons: [] });
    t += 120_000;
    monitor.check();
    monitor.check();
    monitor.check();
    const expired = c.lines();
    assert.equal(expired.length, 1);
    assert.equal(expired[0]!.event, 'globalconf');
    assert.equal(expired[0]!.state, 'expired');
    assert.equal(expired[0]!.level, 'error');
    assert.equal(expired[0]!.serial, 7);
    assert.equal(expired[0]!.time, new Date(t).toISOString());
    const r = monitor.readiness();
    assert.equal(r.ok, false);
    assert.match(r.reasons[0]!, /configuración global vencida/);
    expiresAtMs = t + 600_000;
    monitor.check();
    monitor.check();
    assert.deepEqual(c.lines().slice(1).map((l) => [l.event, l.state, l.level]), [['globalconf', 'ok', 'info']]);
  });

  it('TSA, OCSP and certificate changes are logged once each; the database probe closes readiness', () => {
    const c = capture();
    let tsa: 'ok' | 'failing' | 'outage' = 'ok';
    let ocsp = false;
    let cert = 'vigente';
    let writable = true;
    const monitor = createNodeMonitor(createLogger({ component: 'node', write: c.write }), {
      now: () => new Date(0), conf: () => ({ expiresAtMs: 1e15, serial: 1 }), confError: () => undefined,
      tsa: () => ({ state: tsa, policy: 'refuse', lastError: tsa === 'ok' ? null : 'ECONNREFUSED' }),
      evidenceGate: () => undefined, ocspDown: () => ocsp,
      certificates: () => [{ role: 'sign', state: cert, daysLeft: 10, notAfter: '2026-04-01T00:00:00.000Z' }],
      probeDatabase: () => {
        if (!writable) throw new Error('EACCES');
      },
    });
    monitor.check();
    tsa = 'failing';
    ocsp = true;
    cert = 'por-vencer';
    monitor.check();
    monitor.check();
    tsa = 'outage';
    monitor.check();
    const lines = c.lines().map((l) => `${String(l.event)}:${String(l.state)}`);
    assert.deepEqual(lines, ['tsa:down', 'ocsp:down', 'certificate:sign:por-vencer', 'tsa:outage']);
    writable = false;
    assert.match(monitor.readiness().reasons.join(), /no se puede escribir el registro de mensajes: EACCES/);
  });
});
