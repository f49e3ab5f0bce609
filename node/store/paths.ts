/** Where a node keeps its files under its data folder. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function nodePaths(dir: string) {
  return {
    dir,
    db: join(dir, 'node.db'),
    messageLog: join(dir, 'messagelog.db'),
    keysDir: join(dir, 'keys'),
    signKey: join(dir, 'keys', 'sign-key.pem'),
    authKey: join(dir, 'keys', 'auth-key.pem'),
    signCsr: join(dir, 'sign.csr'),
    authCsr: join(dir, 'auth.csr'),
    signCert: join(dir, 'sign.pem'),
    authCert: join(dir, 'auth.pem'),
    anchor: join(dir, 'anchor.pem'),
    globalConf: join(dir, 'globalconf.signed'),
    /** The node's own WSDL files (served at /wsdl/ before the package's). */
    wsdlDir: join(dir, 'wsdl'),
  } as const;
}

export type NodePaths = ReturnType<typeof nodePaths>;

/** The wsdl/ folder shipped with the package. */
export const WSDL_DIR = fileURLToPath(new URL('../../../wsdl/', import.meta.url));

/** A WSDL or XSD file name servable at /wsdl/<file>. */
export const WSDL_FILE_NAME = /^[A-Za-z0-9._-]{1,100}\.(wsdl|xsd)$/;

/** The first of `dirs` that holds `file` (the node's wsdl/ before the package's), or undefined. */
export function findWsdlFile(dirs: readonly string[], file: string): string | undefined {
  if (!WSDL_FILE_NAME.test(file)) return undefined;
  for (const d of dirs) {
    const path = join(d, file);
    if (existsSync(path)) return path;
  }
  return undefined;
}
