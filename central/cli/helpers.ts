/**
 * What central/cli/index.ts hands to the modules that register more commands (agreements, revocation,
 * external CAs, governance): the options every command has and the helpers to use the store.
 */
import type { Command } from 'commander';
import { okJson } from '../../runtime/cli-kit.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';

/** --dir and --actor, on every command. */
export interface CommonOptions {
  readonly dir: string;
  readonly actor?: string;
}

export interface CentralCliHelpers {
  readonly common: (cmd: Command) => Command;
  readonly withStore: <T>(o: CommonOptions, fn: (store: RegistryStore) => T | Promise<T>) => Promise<T>;
  readonly ctxOf: (o: CommonOptions) => ChangeContext;
  readonly out: (s: string) => void;
}

/** A command's result: with --json the record as okJson, otherwise the sentence for the operator. */
export function outResult(o: { readonly json?: boolean }, out: (s: string) => void, json: object, text: string): void {
  out(o.json === true ? okJson(json) : text);
}
