import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { MiisError } from '../../../core/errors.js';
import { restBackendPath } from '../../../node/adapters/rest.js';
import { adapterFromCliOptions, describeAdapter, parseStoredAdapterSettings } from '../../../node/adapters/settings.js';

const url = (u: string): string => u;

describe('rest adapter: settings and backend URL', () => {
  it('joins base URL, path and query without climbing or doubling slashes', () => {
    assert.deepEqual(restBackendPath('http://10.0.0.2:9001/personas', '/123', ''), { origin: 'http://10.0.0.2:9001', path: '/personas/123' });
    assert.deepEqual(restBackendPath('http://10.0.0.2:9001/personas/', '/123', 'a=1'), { origin: 'http://10.0.0.2:9001', path: '/personas/123?a=1' });
    assert.deepEqual(restBackendPath('https://h/', '', ''), { origin: 'https://h', path: '/' });
  });

  it('service add --adapter rest: base URL, optional OpenAPI file; --openapi belongs to rest only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'miis-rest-'));
    try {
      const file = join(dir, 'api.json');
      writeFileSync(file, '{"openapi":"3.0.3"}');
      const out = adapterFromCliOptions({ adapter: 'rest', backend: 'http://h:1/base', openapi: file }, url);
      assert.equal(out.backendUrl, 'http://h:1/base');
      assert.deepEqual(parseStoredAdapterSettings(out.adapter ?? null), { kind: 'rest', openapi: file });
      assert.equal(describeAdapter(out.backendUrl, out.adapter), 'rest: http://h:1/base');
      assert.throws(() => adapterFromCliOptions({ adapter: 'rest' }, url), (e: MiisError) => e.code === 'Config.InvalidInput' && /rest necesita --backend/.test(e.message));
      assert.throws(() => adapterFromCliOptions({ adapter: 'rest', backend: 'http://h/', openapi: join(dir, 'no.json') }, url), (e: MiisError) => e.code === 'Config.InvalidAdapter');
      assert.throws(() => adapterFromCliOptions({ backend: 'http://h/', openapi: file }, url), (e: MiisError) => e.code === 'Config.InvalidInput');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
