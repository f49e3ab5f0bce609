/** The throwaway PostgreSQL server lives with the sandbox scripts (npm run demo:ha uses it too). */
export { findPgBin, startPgServer, type PgServer } from '../../scripts/sandbox/pg-server.js';
