/**
 * `npm run bench:xml`: the XML reader (core/xml.ts) on its worst input shapes, each built up to
 * the node's message size limit (2 MiB, DEFAULT_SOAP_LIMITS.maxBytes = the node's maxMessageBytes)
 * and read with the limits the node passes (depth 32, 50,000 elements; 200,000 for the sql
 * adapter's responses). Prints, per shape, the outcome (ok or the fault code), the median time
 * per parse (wall clock, and CPU time of the process, which is steadier on a shared machine) and
 * the wall time per MiB. Target: every shape under 50 ms per parse. Prints numbers; asserts nothing.
 *
 *   npm run bench:xml                     all shapes
 *   npm run bench:xml -- --only attrs     shapes whose name contains «attrs»
 *   npm run bench:xml -- --runs 15        timed runs per shape (default 7, after 2 warm-up runs)
 *   npm run bench:xml -- --fuzz 100000    also a longer fuzz loop (as test/core/xml-fuzz.test.ts)
 */
import { MiisError } from '../../core/errors.js';
import { DEFAULT_SOAP_LIMITS } from '../../core/soap.js';
import { parseXml, type XmlLimits } from '../../core/xml.js';
import { fuzzCase, invariantViolation } from '../../test/helpers/xml-gen.js';

const MAX = DEFAULT_SOAP_LIMITS.maxBytes;
const NODE: XmlLimits = DEFAULT_SOAP_LIMITS;
const SQL_ADAPTER: XmlLimits = { ...DEFAULT_SOAP_LIMITS, maxElements: 200_000 };
const MIB = 1024 * 1024;

interface Shape {
  readonly name: string;
  readonly limits: XmlLimits;
  readonly build: () => string;
}

/** head + as many units as fit in `size` bytes (ASCII units assumed unless `unitBytes` says otherwise) + tail. */
function fill(head: string, unit: (i: number) => string, tail: string, size = MAX): string {
  const parts = [head];
  let bytes = Buffer.byteLength(head) + Buffer.byteLength(tail);
  for (let i = 0; ; i += 1) {
    const u = unit(i);
    const b = Buffer.byteLength(u);
    if (bytes + b > size) break;
    parts.push(u);
    bytes += b;
  }
  parts.push(tail);
  return parts.join('');
}

const attrs = (n: number, value = 'v'): string => Array.from({ length: n }, (_, i) => ` a${i}="${value}"`).join('');
const pad = (s: string, width: number): string => (s.length >= width ? s : s + ' '.repeat(width - s.length));
const padLeft = (s: string, width: number): string => (s.length >= width ? s : ' '.repeat(width - s.length) + s);

const SHAPES: Shape[] = [
  // the reported request and its big brother
  { name: 'attrs-40k-one-element (420 KB)', limits: NODE, build: () => `<r${attrs(40_000)}/>` },
  { name: 'attrs-60k-one-element', limits: NODE, build: () => fill('<r', (i) => ` a${i}="${'v'.repeat(20)}"`, '/>') },
  { name: 'attrs-40k-one-element, limit lifted', limits: { ...NODE, maxAttributes: Infinity }, build: () => `<r${attrs(40_000)}/>` },
  { name: 'attrs-256-per-element', limits: NODE, build: () => fill('<r>', () => `<e${attrs(256)}/>`, '</r>') },
  { name: 'attrs-256-prefixed-per-element', limits: NODE, build: () => fill('<r xmlns:p="urn:p" xmlns:q="urn:q">', () => `<e${Array.from({ length: 128 }, (_, i) => ` p:a${i}="v" q:a${i}="v"`).join('')}/>`, '</r>') },
  { name: 'attrs-many-with-char-refs', limits: NODE, build: () => fill('<r>', () => `<e${attrs(64, '&#x41;&amp;&#10;\t')}/>`, '</r>') },
  // the most attributes a document may carry (maxAttributesInDocument), with references; the rest of 2 MiB is text
  { name: 'attrs-50k-with-char-refs (document limit) + text', limits: NODE, build: () => fill(`<r>${Array.from({ length: 195 }, () => `<e${attrs(256, '&#x41;&amp;&#10;\t')}/>`).join('')}<t>`, () => 'xxxxxxxxxxxxxxxx', '</t></r>') },
  // namespaces
  {
    name: 'ns-2k-in-scope x 8k-declaring-elements',
    limits: NODE,
    build: () => {
      let head = '';
      for (let d = 0; d < 31; d += 1) head += `<n${d}${Array.from({ length: 64 }, (_, i) => ` xmlns:p${d}_${i}="urn:p${d}_${i}"`).join('')}>`;
      let tail = '';
      for (let d = 30; d >= 0; d -= 1) tail += `</n${d}>`;
      return fill(head, (i) => (i < 8_000 ? `<q:e xmlns:q="urn:q${i}" p${i % 31}_${i % 64}:a="${'x'.repeat(20)}"/>` : `<p${i % 31}_${i % 64}:e>${'x'.repeat(40)}</p${i % 31}_${i % 64}:e>`), tail);
    },
  },
  { name: 'ns-declaring-every-element (doc limit)', limits: NODE, build: () => fill('<r>', (i) => `<e xmlns="urn:${i}"/>`, '</r>') },
  { name: 'ns-65-on-one-element', limits: NODE, build: () => `<r${Array.from({ length: 65 }, (_, i) => ` xmlns:p${i}="urn:${i}"`).join('')}/>` },
  {
    name: 'ns-limits-lifted 2k prefixes x 50k elements',
    limits: { ...SQL_ADAPTER, maxAttributes: Infinity, maxNamespaceDeclarationsPerElement: Infinity, maxNamespaceDeclarations: Infinity },
    build: () => fill(`<r${Array.from({ length: 2_000 }, (_, i) => ` xmlns:p${i}="urn:p${i}"`).join('')}>`, (i) => `<q:e xmlns:q="urn:q${i}" p${i % 2_000}:a="x"/>`, '</r>'),
  },
  // depth and element count
  { name: 'deep-nesting-at-limit (32)', limits: NODE, build: () => fill('<r>', () => `${'<a>'.repeat(30)}${'x'.repeat(1_400)}${'</a>'.repeat(30)}`, '</r>') },
  { name: 'deep-nesting-over-limit', limits: NODE, build: () => fill('', () => '<a>', '') },
  { name: 'elements-50k-at-limit', limits: NODE, build: () => fill('<r>', () => `<e a="1">${'x'.repeat(30)}</e>`, '</r>') },
  { name: 'elements-over-limit', limits: NODE, build: () => fill('<r>', () => '<e/>', '</r>') },
  { name: 'elements-200k (sql adapter limits)', limits: SQL_ADAPTER, build: () => fill('<r>', () => '<e>xxxx</e>', '</r>') },
  // text, references, CDATA, comments
  { name: 'long-text-one-node', limits: NODE, build: () => fill('<r>', () => 'QUJD', '</r>') },
  { name: 'entities-predefined', limits: NODE, build: () => fill('<r>', () => '&amp;&lt;&gt;&quot;&apos;', '</r>') },
  { name: 'char-refs', limits: NODE, build: () => fill('<r>', () => '&#x1F600;&#65;&#10;', '</r>') },
  { name: 'text-chunks-split-by-comments', limits: NODE, build: () => fill('<r>', () => 'ab<!---->', '</r>') },
  { name: 'text-chunks-split-by-children', limits: NODE, build: () => fill('<r>', () => `${'t'.repeat(40)}<e/>`, '</r>') },
  { name: 'cdata-sections', limits: NODE, build: () => fill('<r>', () => '<![CDATA[a<&]]>', '</r>') },
  { name: 'crlf-text', limits: NODE, build: () => fill('<r>', () => 'a\r\n', '</r>') },
  { name: 'one-huge-comment', limits: NODE, build: () => `<r><!--${'c'.repeat(MAX - 20)}--></r>` },
  { name: 'comments-in-prolog', limits: NODE, build: () => fill('', () => '<!-- c -->\n', '<r/>') },
  // names and values
  { name: 'huge-element-name', limits: NODE, build: () => `<${'n'.repeat(MAX - 10)}/>` },
  { name: 'huge-attribute-name', limits: NODE, build: () => `<r ${'n'.repeat(MAX - 20)}="v"/>` },
  { name: 'huge-attribute-value', limits: NODE, build: () => `<r a="${'v'.repeat(MAX - 20)}"/>` },
  { name: 'names-at-limit (256)', limits: NODE, build: () => fill('<r>', (i) => `<${'n'.repeat(250)}${i % 10} ${'a'.repeat(256)}="v"/>`, '</r>') },
  { name: 'whitespace-in-tags', limits: NODE, build: () => fill('<r>', () => `<e${' '.repeat(40)}a${' '.repeat(40)}=${' '.repeat(40)}"v"${' '.repeat(40)}/>`, '</r>') },
  // error paths that scan the whole input
  { name: 'xml-declaration-of-spaces', limits: NODE, build: () => `<?xml version="1.0"${' '.repeat(MAX - 30)}?><r/>` },
  { name: 'xml-declaration-spaces-then-junk', limits: NODE, build: () => `<?xml version="1.0"${' \t'.repeat((MAX - 40) / 2)}x?><r/>` },
  { name: 'unclosed-root-after-2MiB', limits: NODE, build: () => fill('<r>', () => `<e>${'x'.repeat(40)}</e>\n`, '') },
  { name: 'unclosed-attribute-value', limits: NODE, build: () => `<r a="${'v'.repeat(MAX - 10)}` },
  { name: 'illegal-char-at-the-end', limits: NODE, build: () => fill('<r>', () => `<e>${'x'.repeat(40)}</e>`, '\u0001</r>') },
  { name: 'undefined-entity-at-the-end', limits: NODE, build: () => fill('<r>', () => `<e>${'x'.repeat(40)}</e>`, '&nbsp;</r>') },
  // what the node really carries
  {
    name: 'soap-like-records',
    limits: NODE,
    build: () => fill(
      '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd"><SOAP-ENV:Body><p:r xmlns:p="urn:p">',
      (i) => `<p:persona id="${i}"><p:dni>${String(10_000_000 + i)}</p:dni><p:nombre>MARÍA DEL CARMEN Ñ&amp;A</p:nombre><p:direccion>AV. JAVIER PRADO ESTE 1234, SAN ISIDRO, LIMA</p:direccion></p:persona>\n`,
      '</p:r></SOAP-ENV:Body></SOAP-ENV:Envelope>',
    ),
  },
];

function outcomeOf(bytes: Uint8Array, limits: XmlLimits): string {
  try {
    parseXml(bytes, limits);
    return 'ok';
  } catch (err) {
    if (err instanceof MiisError) return err.code;
    throw err;
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function runShapes(only: string | undefined, runs: number): boolean {
  const header = `${pad('shape', 46)} ${padLeft('KiB', 6)}  ${pad('outcome', 48)} ${padLeft('ms/parse', 9)} ${padLeft('cpu ms', 8)} ${padLeft('ms/MiB', 8)}`;
  console.log(header);
  console.log('-'.repeat(header.length));
  let allUnder = true;
  for (const shape of SHAPES) {
    if (only !== undefined && !shape.name.includes(only)) continue;
    const bytes = Buffer.from(shape.build());
    const outcome = outcomeOf(bytes, shape.limits);
    for (let i = 0; i < 2; i += 1) outcomeOf(bytes, shape.limits);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      outcomeOf(bytes, shape.limits);
      const c = process.cpuUsage(c0);
      times.push(performance.now() - t0);
      cpu.push((c.user + c.system) / 1000);
    }
    const ms = median(times);
    if (ms >= 50) allUnder = false;
    console.log(`${pad(shape.name, 46)} ${padLeft((bytes.length / 1024).toFixed(0), 6)}  ${pad(outcome, 48)} ${padLeft(ms.toFixed(2), 9)} ${padLeft(median(cpu).toFixed(2), 8)} ${padLeft((ms / (bytes.length / MIB)).toFixed(2), 8)}${ms >= 50 ? '  > 50 ms' : ''}`);
  }
  return allUnder;
}

function runFuzz(n: number): boolean {
  const outcomes = new Map<string, number>();
  const slowest: { ms: number; seed: number; kind: string; bytes: number }[] = [];
  let failures = 0;
  const t0 = performance.now();
  for (let seed = 1; seed <= n; seed += 1) {
    const c = fuzzCase(seed);
    const t = performance.now();
    let outcome: string;
    try {
      const doc = parseXml(c.bytes, c.limits);
      const problem = invariantViolation(doc, c.limits);
      if (problem !== undefined) {
        failures += 1;
        console.log(`seed ${seed} (${c.kind}): ${problem}`);
      }
      outcome = 'accepted';
    } catch (err) {
      if (!(err instanceof MiisError)) {
        failures += 1;
        console.log(`seed ${seed} (${c.kind}): ${String((err as Error).stack ?? err)}`);
      }
      outcome = err instanceof MiisError ? err.code : 'CRASH';
    }
    const ms = performance.now() - t;
    slowest.push({ ms, seed, kind: c.kind, bytes: c.bytes.length });
    if (slowest.length > 20) slowest.sort((a, b) => b.ms - a.ms).splice(5);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  slowest.sort((a, b) => b.ms - a.ms);
  console.log(`\nfuzz: ${n} inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${failures} failures`);
  for (const [k, v] of [...outcomes].sort((a, b) => b[1] - a[1])) console.log(`  ${pad(k, 52)} ${v}`);
  console.log('  slowest:');
  for (const s of slowest.slice(0, 5)) console.log(`    seed ${s.seed} (${s.kind}, ${s.bytes} bytes): ${s.ms.toFixed(2)} ms`);
  return failures === 0;
}

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const runs = Number(opt('--runs') ?? '7');
const fuzz = opt('--fuzz');
console.log(`core/xml.ts, worst shapes at ${MAX} bytes (node limits: depth ${NODE.maxDepth}, ${NODE.maxElements} elements); median of ${runs} runs; node ${process.version}\n`);
const under = runShapes(opt('--only'), runs);
console.log(under ? '\nevery shape under 50 ms per parse' : '\nSOME SHAPES TAKE 50 ms OR MORE PER PARSE');
const fuzzOk = fuzz === undefined ? true : runFuzz(Number(fuzz));
if (!fuzzOk) process.exitCode = 1;
