/** A fixture node moved onto PostgreSQL, as an operator does it (tests of issue 12); shared with npm run demo:ha. */
export { nodeOnPg } from '../../scripts/sandbox/pg-server.js';
