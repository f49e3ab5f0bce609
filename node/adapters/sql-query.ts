/**
 * Named parameters in an adapter's SQL (`:id`, `:ids`, `:name`) compiled to the engine's positional
 * form: `?` for SQLite, `$1…` for PostgreSQL. Quoted strings and identifiers and `::` casts are left
 * alone. `:ids` expands to as many placeholders as the request has identifiers. Pure.
 */
export interface CompiledQuery {
  readonly text: string;
  /** Parameter name for each placeholder, in order (`ids` expanded to ids#0, ids#1, …). */
  readonly names: readonly string[];
}

const TOKEN = /'(?:[^']|'')*'|"(?:[^"]|"")*"|::|:([A-Za-z_][A-Za-z0-9_]*)/g;

export function compileQuery(sql: string, engine: 'sqlite' | 'postgres', idsCount = 1): CompiledQuery {
  const names: string[] = [];
  const next = (): string => (engine === 'sqlite' ? '?' : `$${names.length}`);
  const text = sql.replace(TOKEN, (whole, name: string | undefined) => {
    if (name === undefined) return whole;
    if (name === 'ids') {
      const parts: string[] = [];
      for (let i = 0; i < Math.max(1, idsCount); i += 1) {
        names.push(`ids#${i}`);
        parts.push(next());
      }
      return parts.join(', ');
    }
    names.push(name);
    return next();
  });
  return { text, names };
}

/** Positional values for a compiled query from named ones (`ids` is an array). */
export function bindValues(q: CompiledQuery, values: Readonly<Record<string, unknown>>, ids: readonly string[] = []): unknown[] {
  return q.names.map((n) => {
    if (n.startsWith('ids#')) return ids[Number(n.slice(4))] ?? null;
    const v = values[n];
    return v === undefined ? null : v;
  });
}

/** Parameter names a query uses (excluding `ids`). */
export function queryParams(sql: string): string[] {
  return [...new Set(compileQuery(sql, 'sqlite').names.filter((n) => !n.startsWith('ids#')))];
}
