/**
 * Publishing the global configuration: build from the registry, sign, store as a new version
 * when the content changed or the latest version is within half of its validity of expiring.
 * Serials strictly increase (the store refuses anything else).
 */
import { MiisError } from '../../core/errors.js';
import type { GlobalConf } from '../../core/global-conf-model.js';
import { signGlobalConf } from '../../core/global-conf.js';
import type { Signer } from '../../core/signature.js';
import { externalCaPublication } from '../pki/external-cas.js';
import { buildGlobalConf, confContentSha256 } from './builder.js';
import { takeRegistrySnapshot } from './snapshot.js';
import { SETTING, requireInstance } from '../registry/rules.js';
import type { ConfVersionRecord, RegistryStore } from '../registry/store.js';

export const DEFAULT_CONF_VALIDITY_MS = 10 * 60_000;
export const PUBLISHER_ACTOR = 'sistema:publicador';

export interface GlobalConfPublisher {
  /** The content that would be published now (serial = next serial). */
  preview(): GlobalConf;
  /** Publish a new version if needed; returns the latest version either way. */
  refresh(): { readonly version: ConfVersionRecord; readonly published: boolean };
  /** The version to serve now: the latest, refreshed first when missing or expired. */
  current(): ConfVersionRecord;
}

export type PublishReason = 'first' | 'content-changed' | 'half-validity' | 'serial-set' | null;

/** Why a new version is needed, or null when the latest one is still good. Pure. */
export function decidePublish(latest: ConfVersionRecord | undefined, contentSha256: string, now: Date): PublishReason {
  if (latest === undefined) return 'first';
  if (latest.contentSha256 !== contentSha256) return 'content-changed';
  const generated = Date.parse(latest.generatedAt);
  const expires = Date.parse(latest.expiresAt);
  const renewAt = expires - (expires - generated) / 2;
  return now.getTime() >= renewAt ? 'half-validity' : null;
}

export function createGlobalConfPublisher(opts: {
  store: RegistryStore;
  signer: Signer;
  clock: () => Date;
  validityMs?: number;
  actor?: string;
}): GlobalConfPublisher {
  const { store, signer, clock } = opts;
  const validityMs = opts.validityMs ?? DEFAULT_CONF_VALIDITY_MS;
  if (!Number.isSafeInteger(validityMs) || validityMs < 1000) {
    throw new MiisError('Config.InvalidInput', `vigencia de la configuración global no válida: ${validityMs} ms (mínimo 1000)`);
  }
  const actor = opts.actor ?? PUBLISHER_ACTOR;

  const build = (serial: number, now: Date): GlobalConf => {
    const caPem = store.getSetting(SETTING.caCertPem);
    // external CAs (central/pki/external-cas.ts): their issuing certificates follow the instance CA
    const external = externalCaPublication(store);
    const conf = buildGlobalConf(takeRegistrySnapshot(store), {
      instance: requireInstance(store),
      trustedCas: [...(caPem === undefined ? [] : [caPem]), ...external.trustedCas],
      serial,
      now,
      validityMs,
    });
    return external.externalCas.length === 0 ? conf : { ...conf, externalCas: external.externalCas };
  };
  /** At least the serial set with `conf set-serial` (after a restore), else the latest + 1. */
  const serialFloor = (): number => Number(store.getSetting(SETTING.nextSerialMin) ?? '0');
  const nextSerial = (): number => Math.max((store.latestConfVersion()?.serial ?? 0) + 1, serialFloor());

  const refresh = (): { version: ConfVersionRecord; published: boolean } =>
    store.transaction(() => {
      const now = clock();
      const latest = store.latestConfVersion();
      const conf = build(nextSerial(), now);
      const contentSha256 = confContentSha256(conf);
      const serialSet = latest !== undefined && latest.serial < serialFloor();
      if (!serialSet && decidePublish(latest, contentSha256, now) === null) return { version: latest!, published: false };
      const version = store.addConfVersion(
        { serial: conf.serial, generatedAt: conf.generatedAt, expiresAt: conf.expiresAt, contentSha256, envelope: signGlobalConf(conf, signer) },
        { actor, at: now },
      );
      return { version, published: true };
    });

  return {
    preview: () => build(nextSerial(), clock()),
    refresh,
    current() {
      const latest = store.latestConfVersion();
      if (latest !== undefined && clock().getTime() < Date.parse(latest.expiresAt)) return latest;
      return refresh().version;
    },
  };
}

/**
 * `conf set-serial N`: the next version is published with serial N (after restoring a backup,
 * N must be above every serial this central ever issued, which the restored database may not
 * know: take it from the nodes' /health). Clears the restore marker.
 */
export function setNextSerial(store: RegistryStore, serial: number, ctx: { actor: string; at: Date }): void {
  const latest = store.latestConfVersion()?.serial ?? 0;
  if (!Number.isSafeInteger(serial) || serial <= latest) {
    throw new MiisError('Config.InvalidInput', `la serie debe ser mayor que la última publicada en esta base de datos (${latest}) y que cualquiera que los nodos hayan recibido`);
  }
  store.transaction(() => {
    store.setSetting(SETTING.nextSerialMin, String(serial), ctx);
    store.setSetting(SETTING.restoredNeedsSerial, '', ctx);
  });
}
