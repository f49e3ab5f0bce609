import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONSULTAR_PERSONA, JUNTOS_CLIENT, faultCodeOf, personaRequest, postSoap, startInstance, type Instance } from './fixture.js';

/** The value of one sample of the Prometheus text exposition (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('node /metrics and /health', () => {
  let inst: Instance;
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  before(async () => {
    inst = await startInstance({ now, nodeOptions: { metricsPort: 0 } });
  });
  after(async () => {
    await inst.close();
  });

  const scrape = async (url: string | undefined): Promise<string> => {
    assert.ok(url !== undefined, 'metrics listener on');
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return res.text();
  };

  it('counts each exchange exactly once on both sides, with latency histograms, and no DNI anywhere', async () => {
    const service = `${CONSULTAR_PERSONA}`;
    const labels = { side: 'client', service, client: JUNTOS_CLIENT, result: 'ok' };
    const serverLabels = { side: 'server', service, client: JUNTOS_CLIENT, result: 'ok' };
    const before0 = await scrape(inst.juntos.metricsUrl);
    const beforeServer = await scrape(inst.reniec.metricsUrl);
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(res.status, 200, res.text);
    const after1 = await scrape(inst.juntos.metricsUrl);
    const afterServer = await scrape(inst.reniec.metricsUrl);
    assert.equal(sample(after1, 'miis_exchanges_total', labels) - sample(before0, 'miis_exchanges_total', labels), 1);
    assert.equal(sample(afterServer, 'miis_exchanges_total', serverLabels) - sample(beforeServer, 'miis_exchanges_total', serverLabels), 1);
    assert.equal(sample(after1, 'miis_node_duration_seconds_count', { side: 'client' }), sample(before0, 'miis_node_duration_seconds_count', { side: 'client' }) + 1);
    const backendCount = { kind: 'backend', target: 'PE/GOB/20295613620/RUPN/consultarPersona' };
    assert.equal(sample(afterServer, 'miis_backend_duration_seconds_count', backendCount) - sample(beforeServer, 'miis_backend_duration_seconds_count', backendCount), 1);
    assert.match(afterServer, /miis_backend_duration_seconds_bucket\{le="0.005",[^}]*kind="backend"/);
    assert.match(after1, /miis_backend_duration_seconds_count\{[^}]*kind="peer",target="https:\/\/127\.0\.0\.1:\d+"/);
    for (const [name, text] of [['juntos', after1], ['reniec', afterServer]] as const) {
      assert.match(text, new RegExp(`miis_globalconf_age_seconds\\{node="${name}"\\} \\d`), name);
      assert.match(text, /miis_log_queue_depth\{node="\w+"\} 0/);
      assert.ok(sample(text, 'miis_certificate_days_left', { role: 'sign' }) > 0, `${name}: days left of the signing certificate`);
      assert.ok(!text.includes(inst.dni), `${name}: no DNI in the metrics`);
    }
    // a second exchange: exactly one more
    await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(sample(await scrape(inst.juntos.metricsUrl), 'miis_exchanges_total', labels) - sample(after1, 'miis_exchanges_total', labels), 1);
  });

  it('counts faults by code', async () => {
    const before0 = await scrape(inst.juntos.metricsUrl);
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { client: '<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>OTRO</id:subsystemCode></xrd:client>' }));
    const code = faultCodeOf(res.text);
    assert.equal(code, 'Server.ClientProxy.UnknownClient');
    const after1 = await scrape(inst.juntos.metricsUrl);
    assert.equal(sample(after1, 'miis_faults_total', { code }) - sample(before0, 'miis_faults_total', { code }), 1);
    assert.equal(sample(after1, 'miis_exchanges_total', { side: 'client', result: 'error', client: 'PE/GOB/20511268401/OTRO' }), 1);
  });

  it('the metrics listener answers only GET /metrics', async () => {
    const url = new URL(inst.juntos.metricsUrl as string);
    assert.equal((await fetch(new URL('/health', url))).status, 404);
  });

  it('/health: 200 while the node can serve, 503 with the reason once the configuration has expired', async () => {
    const ok = await fetch(inst.juntos.healthUrl);
    assert.equal(ok.status, 200);
    const okBody = await ok.json() as { disponible: boolean; motivos: string[] };
    assert.equal(okBody.disponible, true);
    assert.deepEqual(okBody.motivos, []);
    // the log's checkpoint thread (SQLite): waiting for a WAL of 1,000 frames, nothing went wrong
    const checkpoints = (okBody as unknown as { registro: { puntosDeControl: Record<string, unknown> } }).registro.puntosDeControl;
    assert.deepEqual(checkpoints, { hilo: 'en espera', rondas: 0, reiniciosDelWal: 0, paginasCopiadas: 0, esperaMaximaMs: 0, aviso: null });
    offsetMs = 30 * 24 * 3600_000; // the injected clock moves past the configuration's expiry
    const down = await fetch(inst.juntos.healthUrl);
    assert.equal(down.status, 503);
    const body = await down.json() as { disponible: boolean; motivos: string[] };
    assert.equal(body.disponible, false);
    assert.match(body.motivos.join(' '), /configuración global vencida el \d{4}-/);
    offsetMs = 0;
    assert.equal((await fetch(inst.juntos.healthUrl)).status, 200);
  });
});
