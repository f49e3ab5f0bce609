import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FAULTS, MiisError, isFaultCode, renderMessage, toMiisError, type FaultCode } from '../../core/errors.js';

interface DocRow {
  readonly code: string;
  readonly origin: string;
  readonly http: string;
  readonly when: string;
  readonly todo: string;
}

/** Rows of docs/faults.md whose first cell is a code in backticks. */
function readFaultsDoc(): DocRow[] {
  const text = readFileSync(new URL('../../../docs/faults.md', import.meta.url), 'utf8');
  const rows: DocRow[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const code = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    assert.ok(code !== undefined, `primera columna sin código: ${line}`);
    assert.equal(cells.length, 5, `se esperaban 5 columnas: ${line}`);
    rows.push({ code, origin: cells[1] as string, http: cells[2] as string, when: cells[3] as string, todo: cells[4] as string });
  }
  return rows;
}

const CODES = Object.keys(FAULTS) as FaultCode[];

function expectedOrigin(code: string): RegExp {
  if (code.startsWith('Client.')) return /^SI \/ IS$/;
  if (code.startsWith('Server.ClientProxy.')) return /^Nodo cliente \/ Consumer node$/;
  if (code.startsWith('Server.ServerProxy.')) return /^Nodo proveedor \/ Provider node$/;
  return /^CLI \/ arranque/;
}

describe('fault table (docs/faults.md) and FAULTS in step', () => {
  const rows = readFaultsDoc();

  it('the documentation has a table of codes', () => {
    assert.ok(rows.length >= 40, `solo ${rows.length} filas`);
  });

  it('every FAULTS code is documented', () => {
    const documented = new Set(rows.map((r) => r.code));
    assert.deepEqual(CODES.filter((c) => !documented.has(c)), []);
  });

  it('every documented code exists, once', () => {
    assert.deepEqual(rows.map((r) => r.code).filter((c) => !isFaultCode(c)), []);
    const seen = new Set<string>();
    const repeated = rows.map((r) => r.code).filter((c) => (seen.has(c) ? true : (seen.add(c), false)));
    assert.deepEqual(repeated, []);
  });

  it('the HTTP status and origin of each row match the code', () => {
    for (const r of rows) {
      if (!isFaultCode(r.code)) continue;
      assert.equal(r.http, String(FAULTS[r.code].http), r.code);
      assert.match(r.origin, expectedOrigin(r.code), r.code);
      assert.ok(r.when.length > 20 && r.todo.length > 10, `${r.code}: faltan explicaciones`);
      assert.match(r.when, /<br>\*.+\*$/, `${r.code}: falta la versión en inglés de «cuándo»`);
      assert.match(r.todo, /<br>\*.+\*$/, `${r.code}: falta la versión en inglés de «qué hacer»`);
    }
  });
});

describe('FAULTS and MiisError', () => {
  it('every code follows the origin prefixes and has a sensible HTTP status', () => {
    for (const code of CODES) {
      assert.match(code, /^(Client|Server\.ClientProxy|Server\.ServerProxy|Config)\.[A-Z][A-Za-z]+$/, code);
      const http = FAULTS[code].http;
      if (code.startsWith('Server.')) assert.equal(http, 500, code);
      assert.ok(http >= 400 && http < 600, code);
    }
  });

  it('every message renders without a leftover {detail}, with at most one placeholder', () => {
    for (const code of CODES) {
      const template: string = FAULTS[code].message;
      assert.ok(template.split('{detail}').length <= 2, `${code}: más de un {detail}`);
      const rendered = renderMessage(code, 'DETALLE-X');
      assert.ok(!rendered.includes('{detail}'), code);
      assert.ok(!/[{}]/.test(rendered), `${code}: llaves sueltas en «${rendered}»`);
      if (template.includes('{detail}')) assert.ok(rendered.includes('DETALLE-X'), code);
      const empty = new MiisError(code).message;
      assert.ok(!empty.includes('{detail}'), code);
      assert.ok(empty.trim().length > 0 || code === 'Config.InvalidInput', `${code}: mensaje vacío`);
    }
  });

  it('messages are Spanish sentences', () => {
    for (const code of CODES) {
      const m: string = FAULTS[code].message;
      if (m === '{detail}') continue;
      assert.match(m, /^[A-ZÁÉÍÓÚÑ]/, `${code}: «${m}» debe empezar con mayúscula`);
      assert.match(m, /\b(el|la|los|las|no|de|del|hay|existe|es|ya)\b/i, `${code}: «${m}» no parece castellano`);
      assert.doesNotMatch(m, /\b(the|is not|failed|invalid)\b/i, `${code}: «${m}» tiene palabras en inglés`);
    }
  });

  it('MiisError carries code, detail, HTTP status and a fresh UUID fault id', () => {
    const a = new MiisError('Client.MessageTooLarge', '3 MiB');
    const b = new MiisError('Client.MessageTooLarge', '3 MiB');
    assert.equal(a.code, 'Client.MessageTooLarge');
    assert.equal(a.detail, '3 MiB');
    assert.equal(a.httpStatus, 413);
    assert.equal(a.message, 'El mensaje supera el tamaño máximo permitido (3 MiB)');
    assert.match(a.faultId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a.faultId, b.faultId);
    assert.equal(new MiisError('Config.NotFound', 'x', { faultId: 'fijo' }).faultId, 'fijo');
    assert.ok(a instanceof Error);
    assert.equal(a.name, 'MiisError');
  });

  it('toMiisError keeps a MiisError and wraps anything else with its cause', () => {
    const original = new MiisError('Client.InvalidXml', 'x');
    assert.equal(toMiisError(original, 'Server.ClientProxy.InternalError'), original);
    const cause = new TypeError('boom');
    const wrapped = toMiisError(cause, 'Server.ServerProxy.InternalError');
    assert.equal(wrapped.code, 'Server.ServerProxy.InternalError');
    assert.equal(wrapped.cause, cause);
    assert.ok(!wrapped.message.includes('boom'), 'no internal details reach the caller');
  });

  it('isFaultCode knows only table codes (not inherited properties)', () => {
    assert.equal(isFaultCode('Client.InvalidXml'), true);
    assert.equal(isFaultCode('Client.Nope'), false);
    assert.equal(isFaultCode('toString'), false);
    assert.equal(isFaultCode('__proto__'), false);
  });
});
