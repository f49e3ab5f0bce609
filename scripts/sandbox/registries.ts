/**
 * Registries the sandbox serves with the declarative `sql` adapter — no web service written:
 *   INEI   Marco Censal: centros poblados (identification, consultarCentrosPoblados)
 *   SUNAT  income (rentas) per DNI, answered only as superaUmbral / rangoIngreso, never the amount
 *          (elegibilidad, consultarAtributos; Anexo 01 row 14)
 *   MIDIS  RNU (6.8): IPFs register affiliations, disaffiliations and exits; consultarRNU
 * Each is a SQLite file plus the adapter's JSON configuration, created once (deterministic from the
 * sandbox data) and kept across restarts, so the RNU keeps what the IPFs registered.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createRandom, type SandboxData } from './data.js';

export const NS = {
  identificacion: 'http://miis.midis.gob.pe/servicios/identificacion',
  elegibilidad: 'http://miis.midis.gob.pe/servicios/elegibilidad',
  afiliacion: 'http://miis.midis.gob.pe/servicios/afiliacion',
} as const;

/** Annual income threshold (soles) SUNAT's service compares with; the amount itself is never answered. */
export const UMBRAL_INGRESO_ANUAL = 13_560;

export interface CentroPoblado {
  readonly codigo: string;
  readonly nombre: string;
  readonly ubigeo: string;
  readonly area: 'URBANO' | 'RURAL';
  readonly altitud: number;
}

const CCPP_NAMES = ['SAN JUAN', 'SANTA ROSA', 'PUEBLO NUEVO', 'HUAYLLAPAMPA', 'CCOLLPA', 'VILLA RICA', 'PAMPACHACRA', 'LLAQTA', 'SAN MARTIN', 'QUISHUAR', 'CHACAPAMPA', 'UNION'];

/** Centros poblados: 1–3 per district where the sandbox has households (INEI ubigeo + 4 digits). Deterministic. */
export function sandboxCentrosPoblados(data: SandboxData): CentroPoblado[] {
  const random = createRandom(data.seed + 11);
  const ubigeos = [...new Set(data.households.map((h) => h.ubigeo))].sort();
  const out: CentroPoblado[] = [];
  for (const u of ubigeos) {
    const n = 1 + Math.floor(random() * 3);
    for (let i = 1; i <= n; i += 1) {
      out.push({
        codigo: `${u}${String(i).padStart(4, '0')}`, nombre: CCPP_NAMES[Math.floor(random() * CCPP_NAMES.length)] as string, ubigeo: u,
        area: i === 1 ? 'URBANO' : 'RURAL', altitud: 50 + Math.floor(random() * 4200),
      });
    }
  }
  return out;
}

/** Annual income (soles) of about 60 % of persons; the rest have none declared. Deterministic. */
export function sandboxIncomes(data: SandboxData): Map<string, number> {
  const random = createRandom(data.seed + 17);
  const out = new Map<string, number>();
  for (const p of data.persons) {
    if (random() < 0.6) out.set(p.dni, 1_200 + Math.floor(random() * 40_000) + 0.5 * Math.floor(random() * 2));
  }
  return out;
}

export interface RegistryPlan {
  readonly dir: string;
  /** Client subsystem id of each programme (an IPF registers only its own programme). */
  readonly programmes: Readonly<Record<string, string>>;
}

export interface RegistryFiles {
  readonly ineiDb: string;
  readonly sunatDb: string;
  readonly rnuDb: string;
  /** Adapter configuration file per service code. */
  readonly configs: {
    readonly consultarCentrosPoblados: string;
    readonly consultarAtributos: string;
    readonly registrarAfiliacion: string;
    readonly registrarDesafiliacion: string;
    readonly registrarEgreso: string;
    readonly consultarRNU: string;
  };
}

const RNU_SCHEMA = `
  CREATE TABLE programas (codigo TEXT PRIMARY KEY, cliente TEXT NOT NULL);
  CREATE TABLE afiliaciones (
    dni TEXT NOT NULL, programa TEXT NOT NULL REFERENCES programas(codigo), codigo_hogar TEXT, estado TEXT NOT NULL,
    fecha_afiliacion TEXT NOT NULL, fecha_egreso TEXT, motivo TEXT, registrado_por TEXT NOT NULL, registrado_en TEXT NOT NULL,
    PRIMARY KEY (dni, programa));
`;

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Where the registries and their adapter configurations live under `dir` (pure). */
export function registryPaths(dir: string): RegistryFiles {
  return {
    ineiDb: join(dir, 'inei.db'), sunatDb: join(dir, 'sunat.db'), rnuDb: join(dir, 'rnu.db'),
    configs: {
    consultarCentrosPoblados: join(dir, 'inei-centros-poblados.sql.json'),
    consultarAtributos: join(dir, 'sunat-ingresos.sql.json'),
    registrarAfiliacion: join(dir, 'rnu-registrar-afiliacion.sql.json'),
    registrarDesafiliacion: join(dir, 'rnu-registrar-desafiliacion.sql.json'),
    registrarEgreso: join(dir, 'rnu-registrar-egreso.sql.json'),
    consultarRNU: join(dir, 'rnu-consultar.sql.json'),
    },
  };
}

/** The adapter configurations (relative SQLite paths: resolved against the config file's folder). */
function writeConfigs(dir: string): RegistryFiles['configs'] {
  const c = registryPaths(dir).configs;
  writeJson(c.consultarCentrosPoblados, {
    database: { sqlite: 'inei.db' }, operation: 'consultarCentrosPoblados', namespace: NS.identificacion, id: 'codigoCentroPoblado',
    mode: 'in-list', idColumn: 'codigo', query: 'SELECT codigo, nombre, ubigeo, area, altitud FROM centros_poblados WHERE codigo IN (:ids)',
    response: { element: 'consultarCentrosPobladosResponse', item: 'resultado', found: 'encontrado' },
    attributes: [{ column: 'nombre', element: 'nombre' }, { column: 'ubigeo', element: 'ubigeo' }, { column: 'area', element: 'area' }, { column: 'altitud', element: 'altitud' }],
  });
  writeJson(c.consultarAtributos, {
    database: { sqlite: 'sunat.db' }, operation: 'consultarAtributos', namespace: NS.elegibilidad, id: 'dni',
    query: 'SELECT ingreso_anual FROM rentas WHERE dni = :id',
    response: { element: 'consultarAtributosResponse', item: 'resultado', found: 'encontrado' },
    attributes: [
      { column: 'ingreso_anual', element: 'superaUmbral', derive: { threshold: UMBRAL_INGRESO_ANUAL, op: '>=' }, sensible: true },
      { column: 'ingreso_anual', element: 'rangoIngreso', derive: { bands: [{ below: 6_000, value: 'BAJO' }, { below: UMBRAL_INGRESO_ANUAL, value: 'MEDIO' }, { value: 'ALTO' }] }, sensible: true },
    ],
  });
  const own = 'EXISTS (SELECT 1 FROM programas WHERE codigo = :programa AND cliente = :_client)';
  writeJson(c.registrarAfiliacion, {
    database: { sqlite: 'rnu.db' }, operation: 'registrarAfiliacion', namespace: NS.afiliacion, items: 'afiliacion', id: 'dni', write: true,
    params: { programa: 'programa', codigoHogar: 'codigoHogar', fecha: 'fecha' },
    query: `INSERT INTO afiliaciones (dni, programa, codigo_hogar, estado, fecha_afiliacion, registrado_por, registrado_en)
      SELECT :id, :programa, :codigoHogar, 'AFILIADO', :fecha, :_client, :_now WHERE ${own}
      ON CONFLICT (dni, programa) DO UPDATE SET estado = 'AFILIADO', codigo_hogar = excluded.codigo_hogar, fecha_afiliacion = excluded.fecha_afiliacion,
        fecha_egreso = NULL, motivo = NULL, registrado_por = excluded.registrado_por, registrado_en = excluded.registrado_en
      WHERE afiliaciones.estado <> 'AFILIADO'`,
    response: { element: 'registrarAfiliacionResponse', item: 'resultado', changed: 'registrado' }, attributes: [],
  });
  const exit = (operation: string, items: string, estado: string) => ({
    database: { sqlite: 'rnu.db' }, operation, namespace: NS.afiliacion, items, id: 'dni', write: true,
    params: { programa: 'programa', fecha: 'fecha', motivo: 'motivo' },
    query: `UPDATE afiliaciones SET estado = '${estado}', fecha_egreso = :fecha, motivo = :motivo, registrado_por = :_client, registrado_en = :_now
      WHERE dni = :id AND programa = :programa AND estado = 'AFILIADO' AND ${own}`,
    response: { element: `${operation}Response`, item: 'resultado', changed: 'registrado' }, attributes: [],
  });
  writeJson(c.registrarDesafiliacion, exit('registrarDesafiliacion', 'desafiliacion', 'DESAFILIADO'));
  writeJson(c.registrarEgreso, exit('registrarEgreso', 'egreso', 'EGRESADO'));
  writeJson(c.consultarRNU, {
    database: { sqlite: 'rnu.db' }, operation: 'consultarRNU', namespace: NS.elegibilidad, id: 'dni',
    query: 'SELECT programa, estado, fecha_afiliacion, fecha_egreso FROM afiliaciones WHERE dni = :id ORDER BY programa',
    response: { element: 'consultarRNUResponse', item: 'resultado', found: 'encontrado' },
    attributes: [{ column: 'programa', element: 'programa' }, { column: 'estado', element: 'estado' }, { column: 'fecha_afiliacion', element: 'fechaAfiliacion' }, { column: 'fecha_egreso', element: 'fechaEgreso' }],
  });
  return c;
}

/** Create the three databases and the adapter configurations under `plan.dir` (kept if they exist). */
export function createSandboxRegistries(plan: RegistryPlan, data: SandboxData): RegistryFiles {
  mkdirSync(plan.dir, { recursive: true });
  const files = registryPaths(plan.dir);
  if (!existsSync(files.ineiDb)) {
    const db = new Database(files.ineiDb);
    db.exec('CREATE TABLE centros_poblados (codigo TEXT PRIMARY KEY, nombre TEXT NOT NULL, ubigeo TEXT NOT NULL, area TEXT NOT NULL, altitud INTEGER NOT NULL)');
    const put = db.prepare('INSERT INTO centros_poblados VALUES (?,?,?,?,?)');
    db.transaction(() => { for (const c of sandboxCentrosPoblados(data)) put.run(c.codigo, c.nombre, c.ubigeo, c.area, c.altitud); })();
    db.close();
  }
  if (!existsSync(files.sunatDb)) {
    const db = new Database(files.sunatDb);
    db.exec('CREATE TABLE rentas (dni TEXT PRIMARY KEY, ingreso_anual REAL NOT NULL)');
    const put = db.prepare('INSERT INTO rentas VALUES (?,?)');
    db.transaction(() => { for (const [dni, amount] of sandboxIncomes(data)) put.run(dni, amount); })();
    db.close();
  }
  if (!existsSync(files.rnuDb)) {
    const db = new Database(files.rnuDb);
    db.pragma('journal_mode = WAL');
    db.exec(RNU_SCHEMA);
    const put = db.prepare('INSERT INTO programas VALUES (?,?)');
    for (const [codigo, cliente] of Object.entries(plan.programmes)) put.run(codigo, cliente);
    db.close();
  }
  writeConfigs(plan.dir);
  return files;
}
