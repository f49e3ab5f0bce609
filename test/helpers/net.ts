/** Network helpers shared by tests: they live with the sandbox scripts (npm run demo:ha and the benchmarks use them too). */
export { freeBasePort, freePort } from '../../scripts/sandbox/net.js';
