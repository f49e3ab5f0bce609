/**
 * Registries the sandbox serves with the declarative `sql` adapter — no web service written:
 *   INEI   Marco Censal: centros poblados, áreas censales, manzanas and viviendas (identification:
 *          consultarCentrosPoblados by code; consultarAreasCensales, consultarManzanas and
 *          consultarViviendas by ubigeo, optionally narrowed to one centro poblado)
 *   SUNAT  income (rentas) per DNI, answered only as superaUmbral / rangoIngreso, never the amount
 *          (elegibilidad, consultarAtributos; Anexo 01 row 14)
 *   MIDIS  RNU (6.8): IPFs register affiliations, disaffiliations and exits; consultarRNU; the
 *          households affiliated with registrarAfiliacionHogar (MIDIS backend, writes.ts):
 *          consultarAfiliacionHogar
 *   MIDIS  sanctions registry (6.1 e): consultarSanciones reads central's registry (gov_entities,
 *          gov_sanctions) read-only — in the sandbox central and the MIDIS node share one host
 * Each is a SQLite file plus the adapter's JSON configuration, created once (deterministic from the
 * sandbox data) and kept across restarts, so the RNU keeps what the IPFs registered.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createRandom, type SandboxData } from './data.js';
import { RNU_HOGAR_SCHEMA } from './writes.js';

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

/** Área censal: an urban zone (ZONA) of an urban centro poblado, or the rural enumeration area (AER) of a district. */
export interface AreaCensal {
  /** Sandbox code: INEI ubigeo + 3-digit sequence in the district (INEI's own codes are opaque here). */
  readonly codigo: string;
  readonly ubigeo: string;
  readonly tipo: 'ZONA' | 'AER';
  readonly nombre: string;
  /** Centros poblados the area covers, in code order. */
  readonly centrosPoblados: readonly string[];
}

export interface Manzana {
  /** Sandbox code: área censal code + 3-digit sequence. */
  readonly codigo: string;
  readonly ubigeo: string;
  readonly centroPoblado: string;
  readonly areaCensal: string;
}

export interface Vivienda {
  /** Sandbox code: centro poblado code + 4-digit sequence (14 digits). */
  readonly codigo: string;
  readonly ubigeo: string;
  readonly centroPoblado: string;
  readonly areaCensal: string;
  /** Urban viviendas only; rural ones have none. */
  readonly manzana: string | null;
  readonly tipo: 'PARTICULAR' | 'COLECTIVA';
  readonly condicion: 'OCUPADA' | 'DESOCUPADA';
  readonly direccion: string;
}

export interface MarcoCensal {
  readonly areas: readonly AreaCensal[];
  readonly manzanas: readonly Manzana[];
  readonly viviendas: readonly Vivienda[];
}

const VIAS = ['JR.', 'AV.', 'CALLE', 'PSJE.'] as const;

/**
 * The rest of the Marco Censal (R.J. Nº 108-2016-INEI: centros poblados, manzanas, zonas and
 * ámbitos censales) for the sandbox's centros poblados: each urban centro poblado gets 1–2 zones
 * with 2–4 manzanas of 2–5 viviendas; the rural ones of a district share one AER and have 2–6
 * viviendas without manzana. Deterministic.
 */
export function sandboxMarcoCensal(data: SandboxData): MarcoCensal {
  const random = createRandom(data.seed + 23);
  const pick = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const byUbigeo = new Map<string, CentroPoblado[]>();
  for (const c of sandboxCentrosPoblados(data)) byUbigeo.set(c.ubigeo, [...(byUbigeo.get(c.ubigeo) ?? []), c]);
  const areas: AreaCensal[] = [];
  const manzanas: Manzana[] = [];
  const viviendas: Vivienda[] = [];
  for (const [ubigeo, ccpp] of byUbigeo) {
    let areaSeq = 0;
    const nextArea = (): string => `${ubigeo}${String((areaSeq += 1)).padStart(3, '0')}`;
    const vivSeq = new Map<string, number>();
    const vivienda = (cp: CentroPoblado, areaCensal: string, manzana: string | null): void => {
      const n = (vivSeq.get(cp.codigo) ?? 0) + 1;
      vivSeq.set(cp.codigo, n);
      const calle = CCPP_NAMES[Math.floor(random() * CCPP_NAMES.length)] as string;
      viviendas.push({
        codigo: `${cp.codigo}${String(n).padStart(4, '0')}`, ubigeo, centroPoblado: cp.codigo, areaCensal, manzana,
        tipo: random() < 0.03 ? 'COLECTIVA' : 'PARTICULAR', condicion: random() < 0.1 ? 'DESOCUPADA' : 'OCUPADA',
        direccion: manzana === null ? `CASERIO ${cp.nombre} S/N` : `${VIAS[Math.floor(random() * VIAS.length)] as string} ${calle} ${pick(1, 999)}`,
      });
    };
    for (const cp of ccpp.filter((c) => c.area === 'URBANO')) {
      for (let z = pick(1, 2); z > 0; z -= 1) {
        const zona = nextArea();
        areas.push({ codigo: zona, ubigeo, tipo: 'ZONA', nombre: `ZONA ${zona.slice(6)} - ${cp.nombre}`, centrosPoblados: [cp.codigo] });
        for (let m = 1, nm = pick(2, 4); m <= nm; m += 1) {
          const manzana = `${zona}${String(m).padStart(3, '0')}`;
          manzanas.push({ codigo: manzana, ubigeo, centroPoblado: cp.codigo, areaCensal: zona });
          for (let v = pick(2, 5); v > 0; v -= 1) vivienda(cp, zona, manzana);
        }
      }
    }
    const rural = ccpp.filter((c) => c.area === 'RURAL');
    if (rural.length > 0) {
      const aer = nextArea();
      areas.push({ codigo: aer, ubigeo, tipo: 'AER', nombre: `AER ${aer.slice(6)}`, centrosPoblados: rural.map((c) => c.codigo) });
      for (const cp of rural) for (let v = pick(2, 6); v > 0; v -= 1) vivienda(cp, aer, null);
    }
  }
  return { areas, manzanas, viviendas };
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
  /** Central's SQLite registry (central.db), read by consultarSanciones. */
  readonly centralDb: string;
}

export interface RegistryFiles {
  readonly ineiDb: string;
  readonly sunatDb: string;
  readonly rnuDb: string;
  /** Adapter configuration file per service code. */
  readonly configs: {
    readonly consultarCentrosPoblados: string;
    readonly consultarAreasCensales: string;
    readonly consultarManzanas: string;
    readonly consultarViviendas: string;
    readonly consultarAtributos: string;
    readonly registrarAfiliacion: string;
    readonly registrarDesafiliacion: string;
    readonly registrarEgreso: string;
    readonly consultarRNU: string;
    readonly consultarAfiliacionHogar: string;
    readonly consultarSanciones: string;
  };
}

const MARCO_CENSAL_SCHEMA = `
  CREATE TABLE areas_censales (codigo TEXT PRIMARY KEY, ubigeo TEXT NOT NULL, tipo TEXT NOT NULL, nombre TEXT NOT NULL);
  CREATE TABLE manzanas (codigo TEXT PRIMARY KEY, ubigeo TEXT NOT NULL, centro_poblado TEXT NOT NULL, area_censal TEXT NOT NULL REFERENCES areas_censales(codigo));
  CREATE TABLE viviendas (codigo TEXT PRIMARY KEY, ubigeo TEXT NOT NULL, centro_poblado TEXT NOT NULL, area_censal TEXT NOT NULL REFERENCES areas_censales(codigo),
    manzana TEXT REFERENCES manzanas(codigo), tipo TEXT NOT NULL, condicion TEXT NOT NULL, direccion TEXT NOT NULL);
  CREATE INDEX manzanas_ubigeo ON manzanas (ubigeo);
  CREATE INDEX viviendas_ubigeo ON viviendas (ubigeo, centro_poblado);
`;

export const RNU_SCHEMA = `
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
    consultarAreasCensales: join(dir, 'inei-areas-censales.sql.json'),
    consultarManzanas: join(dir, 'inei-manzanas.sql.json'),
    consultarViviendas: join(dir, 'inei-viviendas.sql.json'),
    consultarAtributos: join(dir, 'sunat-ingresos.sql.json'),
    registrarAfiliacion: join(dir, 'rnu-registrar-afiliacion.sql.json'),
    registrarDesafiliacion: join(dir, 'rnu-registrar-desafiliacion.sql.json'),
    registrarEgreso: join(dir, 'rnu-registrar-egreso.sql.json'),
    consultarRNU: join(dir, 'rnu-consultar.sql.json'),
    consultarAfiliacionHogar: join(dir, 'rnu-consultar-hogar.sql.json'),
    consultarSanciones: join(dir, 'midis-sanciones.sql.json'),
    },
  };
}

/** The adapter configurations (relative SQLite paths: resolved against the config file's folder). */
function writeConfigs(dir: string, centralDb: string): RegistryFiles['configs'] {
  const c = registryPaths(dir).configs;
  writeJson(c.consultarCentrosPoblados, {
    database: { sqlite: 'inei.db' }, operation: 'consultarCentrosPoblados', namespace: NS.identificacion, id: 'codigoCentroPoblado',
    mode: 'in-list', idColumn: 'codigo', query: 'SELECT codigo, nombre, ubigeo, area, altitud FROM centros_poblados WHERE codigo IN (:ids)',
    response: { element: 'consultarCentrosPobladosResponse', item: 'resultado', found: 'encontrado' },
    attributes: [{ column: 'nombre', element: 'nombre' }, { column: 'ubigeo', element: 'ubigeo' }, { column: 'area', element: 'area' }, { column: 'altitud', element: 'altitud' }],
  });
  // by district (ubigeo, INEI coding), optionally narrowed to one centro poblado: one resultado per row
  const byUbigeo = (operation: string, query: string, attributes: { column: string; element: string }[]) => ({
    database: { sqlite: 'inei.db' }, operation, namespace: NS.identificacion, id: 'ubigeo', params: { centroPoblado: 'codigoCentroPoblado' },
    query, response: { element: `${operation}Response`, item: 'resultado', found: 'encontrado' }, attributes, maxIds: 20,
  });
  const cpFilter = '(:centroPoblado IS NULL OR centro_poblado = :centroPoblado)';
  writeJson(c.consultarAreasCensales, byUbigeo('consultarAreasCensales',
    `SELECT a.codigo, a.tipo, a.nombre, COUNT(DISTINCT v.centro_poblado) AS centros_poblados, COUNT(DISTINCT v.manzana) AS manzanas, COUNT(v.codigo) AS viviendas
      FROM areas_censales a JOIN viviendas v ON v.area_censal = a.codigo
      WHERE a.ubigeo = :id AND (:centroPoblado IS NULL OR v.centro_poblado = :centroPoblado) GROUP BY a.codigo ORDER BY a.codigo`,
    [{ column: 'codigo', element: 'codigoArea' }, { column: 'tipo', element: 'tipo' }, { column: 'nombre', element: 'nombre' },
      { column: 'centros_poblados', element: 'centrosPoblados' }, { column: 'manzanas', element: 'manzanas' }, { column: 'viviendas', element: 'viviendas' }]));
  writeJson(c.consultarManzanas, byUbigeo('consultarManzanas',
    `SELECT m.codigo, m.centro_poblado, m.area_censal, (SELECT COUNT(*) FROM viviendas v WHERE v.manzana = m.codigo) AS viviendas
      FROM manzanas m WHERE m.ubigeo = :id AND ${cpFilter} ORDER BY m.codigo`,
    [{ column: 'codigo', element: 'codigoManzana' }, { column: 'centro_poblado', element: 'codigoCentroPoblado' }, { column: 'area_censal', element: 'codigoArea' }, { column: 'viviendas', element: 'viviendas' }]));
  writeJson(c.consultarViviendas, byUbigeo('consultarViviendas',
    `SELECT codigo, centro_poblado, area_censal, manzana, tipo, condicion, direccion FROM viviendas WHERE ubigeo = :id AND ${cpFilter} ORDER BY codigo`,
    [{ column: 'codigo', element: 'codigoVivienda' }, { column: 'centro_poblado', element: 'codigoCentroPoblado' }, { column: 'area_censal', element: 'codigoArea' },
      { column: 'manzana', element: 'codigoManzana' }, { column: 'tipo', element: 'tipo' }, { column: 'condicion', element: 'condicion' }, { column: 'direccion', element: 'direccion' }]));
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
  writeJson(c.consultarAfiliacionHogar, {
    database: { sqlite: 'rnu.db' }, operation: 'consultarAfiliacionHogar', namespace: NS.afiliacion, id: 'codigoHogar',
    query: `SELECT h.programa, h.estado, h.fecha_afiliacion,
      (SELECT COUNT(*) FROM miembros_afiliados m WHERE m.codigo_hogar = h.codigo_hogar AND m.programa = h.programa) AS miembros
      FROM afiliaciones_hogar h WHERE h.codigo_hogar = :id ORDER BY h.programa`,
    response: { element: 'consultarAfiliacionHogarResponse', item: 'resultado', found: 'encontrado' },
    attributes: [{ column: 'programa', element: 'programa' }, { column: 'estado', element: 'estado' }, { column: 'fecha_afiliacion', element: 'fechaAfiliacion' }, { column: 'miembros', element: 'miembros' }],
  });
  // an entity known to central without sanctions answers one resultado with sancionado=false; an unknown RUC, encontrado=false
  writeJson(c.consultarSanciones, {
    database: { sqlite: centralDb }, operation: 'consultarSanciones', namespace: NS.elegibilidad, id: 'ruc', maxIds: 100,
    query: `SELECT e.name AS entidad, CASE WHEN s.id IS NULL THEN 'false' ELSE 'true' END AS sancionado, s.infraction, s.legal_basis, s.resolution, s.date
      FROM gov_entities e LEFT JOIN gov_sanctions s ON s.entity_ruc = e.ruc WHERE e.ruc = :id ORDER BY s.date, s.id`,
    response: { element: 'consultarSancionesResponse', item: 'resultado', found: 'encontrado' },
    attributes: [{ column: 'entidad', element: 'entidad' }, { column: 'sancionado', element: 'sancionado' }, { column: 'infraction', element: 'infraccion' },
      { column: 'legal_basis', element: 'baseLegal' }, { column: 'resolution', element: 'resolucion' }, { column: 'date', element: 'fecha' }],
  });
  return c;
}

/** Create the three databases and the adapter configurations under `plan.dir` (kept if they exist). */
export function createSandboxRegistries(plan: RegistryPlan, data: SandboxData): RegistryFiles {
  mkdirSync(plan.dir, { recursive: true });
  const files = registryPaths(plan.dir);
  {
    // created once; the Marco Censal tables are added to an older inei.db that lacks them
    const db = new Database(files.ineiDb);
    const has = (table: string): boolean => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
    if (!has('centros_poblados')) {
      db.exec('CREATE TABLE centros_poblados (codigo TEXT PRIMARY KEY, nombre TEXT NOT NULL, ubigeo TEXT NOT NULL, area TEXT NOT NULL, altitud INTEGER NOT NULL)');
      const put = db.prepare('INSERT INTO centros_poblados VALUES (?,?,?,?,?)');
      db.transaction(() => { for (const c of sandboxCentrosPoblados(data)) put.run(c.codigo, c.nombre, c.ubigeo, c.area, c.altitud); })();
    }
    if (!has('viviendas')) {
      db.exec(MARCO_CENSAL_SCHEMA);
      const marco = sandboxMarcoCensal(data);
      const putArea = db.prepare('INSERT INTO areas_censales VALUES (?,?,?,?)');
      const putManzana = db.prepare('INSERT INTO manzanas VALUES (?,?,?,?)');
      const putVivienda = db.prepare('INSERT INTO viviendas VALUES (?,?,?,?,?,?,?,?)');
      db.transaction(() => {
        for (const a of marco.areas) putArea.run(a.codigo, a.ubigeo, a.tipo, a.nombre);
        for (const m of marco.manzanas) putManzana.run(m.codigo, m.ubigeo, m.centroPoblado, m.areaCensal);
        for (const v of marco.viviendas) putVivienda.run(v.codigo, v.ubigeo, v.centroPoblado, v.areaCensal, v.manzana, v.tipo, v.condicion, v.direccion);
      })();
    }
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
  {
    const db = new Database(files.rnuDb);
    db.exec(RNU_HOGAR_SCHEMA); // households (also added to an older rnu.db)
    db.close();
  }
  writeConfigs(plan.dir, plan.centralDb);
  return files;
}
