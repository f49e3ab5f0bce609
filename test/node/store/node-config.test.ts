import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNodeConfigValue, validateNodeConfig } from '../../../node/store/node-config.js';

const fails = (value: unknown): string => {
  try {
    validateNodeConfig(value, 'node.json');
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'Config.InvalidInput');
    return (err as Error).message;
  }
  assert.fail(`accepted ${JSON.stringify(value)}`);
};

describe('node.json validation (hand-written)', () => {
  it('accepts every key and returns them in declaration order', () => {
    const all = {
      database: { instanceId: 'a.b', passwordFile: 'pw', passwordEnv: 'X_1', url: 'postgresql://a@b/c', engine: 'postgresql' },
      metricsPort: null, metricsHost: '::1', centralUrl: 'https://central:4400/', proxyPort: 5500, proxyHost: 'nodo.example', isPort: 0, isHost: '127.0.0.1',
    };
    const valid = validateNodeConfig(all);
    assert.deepEqual(valid, all);
    assert.deepEqual(Object.keys(valid), ['isHost', 'isPort', 'proxyHost', 'proxyPort', 'centralUrl', 'metricsHost', 'metricsPort', 'database']);
    assert.deepEqual(validateNodeConfig({}), {});
    assert.deepEqual(validateNodeConfig({ database: { engine: 'sqlite' } }), { database: { engine: 'sqlite' } });
  });

  it('the root must be an object', () => {
    for (const v of [null, 5, 'x', []]) assert.equal(fails(v), 'node.json: (raíz): el archivo debe contener un objeto JSON');
  });

  it('reports every failed check, keys in declaration order, unknown keys last', () => {
    assert.equal(fails({ zz: 1, isPort: 'a', isHost: 'b c', metricsPort: 1e6, extra: 2 }),
      'node.json: «isHost»: debe ser una dirección IP o un nombre de host (sin espacios ni barras); «isPort»: puerto: debe ser un número entero; '
      + '«metricsPort»: puerto: debe estar entre 0 y 65535; clave desconocida «zz», «extra» (claves válidas: isHost, isPort, proxyHost, proxyPort, centralUrl, metricsHost, metricsPort, database)');
    assert.equal(fails({ isPort: 1e21 }), 'node.json: «isPort»: puerto: debe ser un número entero; «isPort»: puerto: debe estar entre 0 y 65535');
    assert.equal(fails({ proxyPort: 1.5 }), 'node.json: «proxyPort»: puerto: debe ser un número entero');
    assert.equal(fails({ isPort: null }), 'node.json: «isPort»: puerto: debe ser un número entero');
    assert.equal(fails({ proxyHost: 5 }), 'node.json: «proxyHost»: debe ser una dirección IP o un nombre de host');
    assert.equal(fails({ metricsHost: 'x'.repeat(256) }), 'node.json: «metricsHost»: debe ser una dirección IP o un nombre de host (sin espacios ni barras)');
    assert.equal(fails({ centralUrl: 5 }), 'node.json: «centralUrl»: debe ser una URL http(s)');
    assert.equal(fails({ centralUrl: 'ftp://x' }), 'node.json: «centralUrl»: debe ser una URL http:// o https:// (p. ej. http://127.0.0.1:4400)');
  });

  it('database: the engine decides the keys; unknown keys name the valid ones of that engine', () => {
    for (const v of ['x', null, []]) assert.equal(fails({ database: v }), 'node.json: «database»: engine debe ser «sqlite» o «postgresql»');
    assert.equal(fails({ database: { engine: 'oracle' } }), 'node.json: «database.engine»: engine debe ser «sqlite» o «postgresql»');
    assert.equal(fails({ database: { engine: 'sqlite', url: 'x' } }), 'node.json: «database»: clave desconocida «url» (claves válidas: engine)');
    assert.equal(fails({ database: { engine: 'postgresql' } }), 'node.json: «database.url»: debe ser una URL postgres://');
    assert.equal(fails({ database: { engine: 'postgresql', url: 'postgres://a@b/c', passwordEnv: 5, passwordFile: '', other: 1 } }),
      'node.json: «database.passwordEnv»: debe ser el nombre de una variable de entorno; «database.passwordFile»: debe ser una ruta de archivo (texto no vacío); '
      + '«database»: clave desconocida «other» (claves válidas: engine, url, passwordEnv, passwordFile, instanceId)');
  });

  it('config set values are typed before validation', () => {
    assert.deepEqual(parseNodeConfigValue('isPort', '80'), { key: 'isPort', value: 80 });
    assert.deepEqual(parseNodeConfigValue('metricsPort', ''), { key: 'metricsPort', value: null });
    assert.deepEqual(parseNodeConfigValue('centralUrl', 'http://A:1'), { key: 'centralUrl', value: 'http://a:1/' });
    assert.throws(() => parseNodeConfigValue('isPort', '-1'), /^MiisError: valor: «isPort»: puerto: debe estar entre 0 y 65535$|valor: «isPort»: puerto: debe estar entre 0 y 65535/);
  });
});
