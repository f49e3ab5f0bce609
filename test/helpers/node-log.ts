/** The message log of a running node started on SQLite (the default), with its synchronous reads. */
import type { MessageLog } from '../../node/evidence/message-log.js';
import type { RunningNode } from '../../node/main.js';

export function sqliteLog(node: Pick<RunningNode, 'ctx'>): MessageLog {
  const log = node.ctx.log;
  if ('engine' in log) throw new Error(`the node's log is on ${log.engine}, not SQLite`);
  return log;
}
