/** Network helpers shared by tests: freePort lives with the sandbox scripts (npm run demo:ha uses it too). */
export { freePort } from '../../scripts/sandbox/net.js';
