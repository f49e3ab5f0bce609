/** Where a node keeps its files under its data folder. */
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
  } as const;
}

export type NodePaths = ReturnType<typeof nodePaths>;

/** The wsdl/ folder shipped with the package. */
export const WSDL_DIR = fileURLToPath(new URL('../../../wsdl/', import.meta.url));
