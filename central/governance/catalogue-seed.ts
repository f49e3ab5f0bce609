/**
 * The catalogue `miis-central init` starts with: the five core databases of directive 6.1 and
 * the fifteen sources of Anexo Nº 01, with their administering entities.
 *
 * RUCs: RENIEC (20295613620) and MIDIS (20545565359) are their real public RUCs. For the other
 * entities we could not confirm the RUC from an authoritative source while writing this, so they
 * get generated placeholders (prefix 20999990, valid check digit) marked `rucPlaceholder: true`
 * (shown as "RUC provisional" by the CLI and the portal). DGFO must replace them before use.
 */
import { rucCheckDigit } from '../../core/peru-ids.js';
import type { ChangeContext, MemberRole, RegistryStore } from '../registry/store.js';
import { addComponent, getComponent, type ComponentInput } from './catalogue.js';
import { addEntity, getEntity } from './entities.js';

interface SeedEntity {
  readonly key: string;
  readonly name: string;
  readonly acronym: string;
  readonly role: MemberRole;
  readonly sector: string;
  /** Real RUC, when known for sure; otherwise a placeholder is generated. */
  readonly ruc?: string;
}

/** A placeholder RUC: 20999990 + 2-digit index + check digit. */
export function placeholderRuc(index: number): string {
  const first10 = `20999990${String(index).padStart(2, '0')}`;
  return first10 + rucCheckDigit(first10);
}

const ENTITIES: readonly SeedEntity[] = [
  { key: 'RENIEC', name: 'Registro Nacional de Identificación y Estado Civil', acronym: 'RENIEC', role: 'RENIEC', sector: 'Organismo constitucionalmente autónomo', ruc: '20295613620' },
  { key: 'MIDIS', name: 'Ministerio de Desarrollo e Inclusión Social', acronym: 'MIDIS', role: 'MIDIS', sector: 'Desarrollo e Inclusión Social', ruc: '20545565359' },
  { key: 'INEI', name: 'Instituto Nacional de Estadística e Informática', acronym: 'INEI', role: 'INEI', sector: 'Presidencia del Consejo de Ministros' },
  { key: 'MINSA', name: 'Ministerio de Salud', acronym: 'MINSA', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Salud' },
  { key: 'MINEDU', name: 'Ministerio de Educación', acronym: 'MINEDU', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Educación' },
  { key: 'SIS', name: 'Seguro Integral de Salud', acronym: 'SIS', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Salud' },
  { key: 'SUSALUD', name: 'Superintendencia Nacional de Salud', acronym: 'SUSALUD', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Salud' },
  { key: 'MIMP', name: 'Ministerio de la Mujer y Poblaciones Vulnerables', acronym: 'MIMP', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Mujer y Poblaciones Vulnerables' },
  { key: 'CONADIS', name: 'Consejo Nacional para la Integración de la Persona con Discapacidad', acronym: 'CONADIS', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Mujer y Poblaciones Vulnerables' },
  { key: 'SUNARP', name: 'Superintendencia Nacional de los Registros Públicos', acronym: 'SUNARP', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Justicia y Derechos Humanos' },
  { key: 'MEF', name: 'Ministerio de Economía y Finanzas', acronym: 'MEF', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Economía y Finanzas' },
  { key: 'OSINERGMIN', name: 'Organismo Supervisor de la Inversión en Energía y Minería', acronym: 'OSINERGMIN', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Presidencia del Consejo de Ministros' },
  { key: 'SUNAT', name: 'Superintendencia Nacional de Aduanas y de Administración Tributaria', acronym: 'SUNAT', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Economía y Finanzas' },
  { key: 'MINCU', name: 'Ministerio de Cultura', acronym: 'MINCU', role: 'PRODUCTORA_INFORMACION_SOCIAL', sector: 'Cultura' },
];

type SeedComponent = Omit<ComponentInput, 'entity'> & { readonly entityKey: string };

const LEY = 'Ley Nº 30435 y su Reglamento (D.S. Nº 007-2016-MIDIS)';
const ANEXO = 'Directiva Nº 003-2017-MIDIS, Anexo Nº 01';
const CORE_REPORT = 'Reglamento de la Ley Nº 30435 (componente del MIIS por norma, directiva 6.1)';

const COMPONENTS: readonly SeedComponent[] = [
  // --- 6.1: the core databases (part of the MIIS by regulation: available) ---
  { code: 'RUPN', entityKey: 'RENIEC', name: 'Registro Único de Personas Naturales', description: 'Identificación de las personas por DNI: nombres, apellidos, fecha de nacimiento, ubigeo, fotografía.', legalBasis: `${LEY}; directiva 6.1 a, 6.6.1.1`, family: 'identificacion', referenceUnit: 'persona', personal: true, sensitive: true, technicalReport: CORE_REPORT, source: 'Directiva 6.1 a', status: 'disponible' },
  { code: 'PGH', entityKey: 'MIDIS', name: 'Padrón General de Hogares', description: 'Hogares y sus integrantes con su código único de hogar y la clasificación socioeconómica (CSE) vigente.', legalBasis: `${LEY}; directiva 6.1 b, 6.6.1.1, 6.6.2.1`, family: 'identificacion', referenceUnit: 'hogar', personal: true, sensitive: true, technicalReport: CORE_REPORT, source: 'Directiva 6.1 b', status: 'disponible' },
  { code: 'RNU', entityKey: 'MIDIS', name: 'Registro Nacional de Usuarios', description: 'Usuarias y usuarios de las intervenciones públicas focalizadas, construido con los padrones de las IPF (6.8).', legalBasis: `${LEY}; directiva 6.1 c, 6.6.2.1; Directiva Nº 006-2016-MIDIS`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: false, technicalReport: CORE_REPORT, source: 'Directiva 6.1 c', status: 'disponible' },
  { code: 'MARCO-CENSAL', entityKey: 'INEI', name: 'Marco Censal actualizado', description: 'Centros poblados, manzanas, zonas y ámbitos censales con sus códigos únicos (R.J. Nº 108-2016-INEI).', legalBasis: `${LEY}; directiva 6.1 d, 6.6.1.1`, family: 'identificacion', referenceUnit: 'centro-poblado', personal: false, sensitive: false, technicalReport: CORE_REPORT, source: 'Directiva 6.1 d', status: 'disponible' },
  { code: 'REG-SANCIONES', entityKey: 'MIDIS', name: 'Registro de sanciones del SINAFO', description: 'Sanciones impuestas en el marco del SINAFO (numeral 22.2 del artículo 22 de la Ley Nº 30435): entidad, infracción, resolución y fecha.', legalBasis: `${LEY}; directiva 6.1 e; Ley Nº 30435, arts. 21 y 22`, family: 'criterios-elegibilidad', referenceUnit: 'entidad', personal: false, sensitive: false, technicalReport: CORE_REPORT, source: 'Directiva 6.1 e', status: 'disponible' },
  // --- Anexo Nº 01: identified sources (incorporated progressively, 6.6.2.2, 8.2) ---
  { code: 'NACIDO-VIVO', entityKey: 'MINSA', name: 'Registro del Nacido Vivo en línea', description: 'Registro de Hechos Vitales: nacimientos en establecimientos de salud públicos y privados, y fuera de ellos.', legalBasis: `R.M. Nº 148-2012/MINSA; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: true, source: 'Anexo Nº 01, ítem 1' },
  { code: 'PADRON-NOMINADO', entityKey: 'MINSA', name: 'Padrón Nominado de niñas y niños menores de 6 años', description: 'Padrón distrital de niñas y niños menores de 6 años, con verificación de identidad en tiempo real.', legalBasis: `R.M. Nº 096-2015/MINSA; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: false, source: 'Anexo Nº 01, ítem 2' },
  { code: 'MATRICULADOS', entityKey: 'MINEDU', name: 'Lista de matriculados', description: 'Alumnos matriculados en instituciones educativas públicas o privadas de educación básica regular.', legalBasis: `Ley Nº 30435, art. 13; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: false, source: 'Anexo Nº 01, ítem 3' },
  { code: 'AFILIADOS-SIS', entityKey: 'SIS', name: 'Registro de Afiliados al SIS', description: 'Personas afiliadas a alguno de los regímenes de financiamiento del Seguro Integral de Salud.', legalBasis: `Ley Nº 30435, art. 13; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: true, source: 'Anexo Nº 01, ítem 4' },
  { code: 'ASEGURADOS-AUS', entityKey: 'SUSALUD', name: 'Registro nominal de asegurados del AUS', description: 'Afiliados o asegurados del Aseguramiento Universal en Salud y sus derechohabientes, en cualquier régimen.', legalBasis: `Ley Nº 30435, art. 13; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: true, source: 'Anexo Nº 01, ítem 5' },
  { code: 'DISCAPACIDAD', entityKey: 'CONADIS', name: 'Registro Nacional de la Persona con Discapacidad', description: 'Inscripción de personas naturales con discapacidad en el CONADIS (sector MIMP).', legalBasis: `Ley Nº 30435, art. 13; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: true, source: 'Anexo Nº 01, ítem 6' },
  { code: 'CASOS-CEM', entityKey: 'MIMP', name: 'Registro de Casos de los Centros de Emergencia Mujer', description: 'Personas afectadas por violencia familiar y sexual atendidas en los CEM a nivel nacional.', legalBasis: `Ley Nº 30435, art. 13; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: true, source: 'Anexo Nº 01, ítem 7' },
  { code: 'DESPLAZADOS', entityKey: 'MIMP', name: 'Registro Nacional para las Personas Desplazadas', description: 'Registro único de personas desplazadas, sus características y necesidades.', legalBasis: `Ley Nº 30435, art. 13; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: true, source: 'Anexo Nº 01, ítem 8' },
  { code: 'ADOPCIONES', entityKey: 'MIMP', name: 'Sistema Informático del Registro Nacional de Adopciones', description: 'Familias en proceso de adopción y expedientes de niñas, niños y adolescentes en los procedimientos de adopción.', legalBasis: `Ley Nº 30435, art. 13; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: true, source: 'Anexo Nº 01, ítem 9' },
  { code: 'INVESTIGACION-TUTELAR', entityKey: 'MIMP', name: 'Registro de Procedimientos de Investigación Tutelar', description: 'Actos y diligencias para verificar el presunto estado de abandono de niñas, niños y adolescentes.', legalBasis: `Código de los Niños y Adolescentes, art. 248; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: true, source: 'Anexo Nº 01, ítem 10' },
  { code: 'REGISTRO-VEHICULAR', entityKey: 'SUNARP', name: 'Registro Vehicular', description: 'Tenencia de vehículos tipo auto o camioneta (evidencia de no pobreza con alta capacidad predictiva).', legalBasis: `Ley Nº 30435, art. 13; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: false, source: 'Anexo Nº 01, ítem 11' },
  { code: 'PLANILLAS-MCPP', entityKey: 'MEF', name: 'Planillas Públicas (MCPP)', description: 'Módulo de Control de Pago de Planillas integrado con el AIRHSP: pagos a servidores públicos del Gobierno Nacional y Regional.', legalBasis: `Ley Nº 30435, art. 13; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'persona', personal: true, sensitive: true, source: 'Anexo Nº 01, ítem 12' },
  { code: 'ELECTRICIDAD', entityKey: 'OSINERGMIN', name: 'Registro de Electricidad (GART)', description: 'Tipo de suministro y facturación mensual por consumo de energía eléctrica reportados por las empresas distribuidoras.', legalBasis: `Ley Nº 30435, art. 13; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'vivienda', personal: true, sensitive: false, source: 'Anexo Nº 01, ítem 13' },
  { code: 'RENTAS-SUNAT', entityKey: 'SUNAT', name: 'Ingresos de rentas de primera, tercera, cuarta y quinta categoría', description: 'Solo el resultado de comparar el ingreso promedio del hogar con los umbrales (nunca montos: reserva tributaria).', legalBasis: `Código Tributario, art. 85 (reserva tributaria); ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'hogar', personal: true, sensitive: true, source: 'Anexo Nº 01, ítem 14' },
  { code: 'PUEBLOS-INDIGENAS', entityKey: 'MINCU', name: 'Base de Datos Oficial de Pueblos Indígenas u Originarios', description: 'Lista de pueblos indígenas de la Amazonía y sus referencias geográficas.', legalBasis: `R.M. Nº 208-2016-MC; ${ANEXO}`, family: 'criterios-elegibilidad', referenceUnit: 'centro-poblado', personal: false, sensitive: false, source: 'Anexo Nº 01, ítem 15' },
];

export const SEED_COMPONENT_COUNT = COMPONENTS.length;

/** The RUC each seed entity gets (real or placeholder), by key. */
export function seedEntityRucs(): Map<string, { ruc: string; placeholder: boolean }> {
  return new Map(ENTITIES.map((e, i) => [e.key, e.ruc === undefined ? { ruc: placeholderRuc(i + 1), placeholder: true } : { ruc: e.ruc, placeholder: false }]));
}

/** Add what is missing of the seed (idempotent). Returns how many entities and components were added. */
export function seedCatalogue(store: RegistryStore, ctx: ChangeContext): { entities: number; components: number } {
  const rucs = seedEntityRucs();
  return store.transaction(() => {
    let entities = 0;
    let components = 0;
    for (const e of ENTITIES) {
      const { ruc, placeholder } = rucs.get(e.key)!;
      if (getEntity(store, ruc) !== undefined) continue;
      addEntity(store, { ruc, name: e.name, acronym: e.acronym, role: e.role, sector: e.sector, rucPlaceholder: placeholder }, ctx);
      entities += 1;
    }
    for (const { entityKey, ...c } of COMPONENTS) {
      if (getComponent(store, c.code) !== undefined) continue;
      addComponent(store, { ...c, entity: rucs.get(entityKey)!.ruc }, ctx);
      components += 1;
    }
    return { entities, components };
  });
}
