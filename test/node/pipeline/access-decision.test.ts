import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GlobalConfAgreement } from '../../../core/global-conf-model.js';
import { parseClientId, parseServiceId } from '../../../core/identifiers.js';
import { allowedServiceKeys, decideAccess, type AccessRequest, type AccessRules } from '../../../node/pipeline/access-decision.js';
import { limaDate } from '../../../core/business-days.js';

const PROVIDER = 'PE/GOB/20295613620';
const SERVICE = `${PROVIDER}/RUPN/consultarPersona`;
const JUNTOS = 'PE/GOB/20511268401/JUNTOS';
const P65 = 'PE/GOB/20511343081/PENSION65';

const agreement: GlobalConfAgreement = {
  id: 'CONV-1', provider: PROVIDER, clients: [JUNTOS], services: [SERVICE], purposes: ['FOCALIZACION', 'AFILIACION'],
  validFrom: '2026-01-01', validUntil: '2026-12-31',
};

function rules(over: Partial<AccessRules> = {}): AccessRules {
  return {
    localServices: new Set([SERVICE]), localClients: [`${PROVIDER}/RUPN`], acl: new Map([[SERVICE, new Set([JUNTOS])]]),
    accessRights: [], agreements: [agreement], today: '2026-06-15', ...over,
  };
}

function req(over: Partial<{ client: string; service: string; convenio: string | undefined; finalidad: string | undefined }> = {}): AccessRequest {
  return {
    client: parseClientId(over.client ?? JUNTOS), service: parseServiceId(over.service ?? `${SERVICE}/v1`),
    convenio: 'convenio' in over ? over.convenio : 'CONV-1', finalidad: 'finalidad' in over ? over.finalidad : 'FOCALIZACION',
  };
}

const codeOf = (d: ReturnType<typeof decideAccess>): string => (d.allowed ? 'ok' : d.code);

describe('decideAccess', () => {
  it('allows a covered client with an access right, an agreement in force and an allowed purpose', () => {
    const d = decideAccess(rules(), req());
    assert.equal(d.allowed, true);
    assert.equal(d.allowed && d.agreement.id, 'CONV-1');
  });

  it('refuses an unknown service or one whose subsystem is not hosted here', () => {
    assert.equal(codeOf(decideAccess(rules(), req({ service: `${PROVIDER}/RUPN/otro/v1` }))), 'Server.ServerProxy.UnknownService');
    assert.equal(codeOf(decideAccess(rules({ localClients: [] }), req())), 'Server.ServerProxy.UnknownService');
  });

  it('needs an access right: local ACL or one granted centrally, for the subsystem or its member', () => {
    assert.equal(codeOf(decideAccess(rules({ acl: new Map() }), req())), 'Server.ServerProxy.AccessDenied');
    assert.equal(codeOf(decideAccess(rules({ acl: new Map(), accessRights: [{ service: SERVICE, client: JUNTOS }] }), req())), 'ok');
    assert.equal(codeOf(decideAccess(rules({ acl: new Map([[SERVICE, new Set(['PE/GOB/20511268401'])]]) }), req())), 'ok');
    assert.equal(codeOf(decideAccess(rules({ acl: new Map(), accessRights: [{ service: `${PROVIDER}/RUPN/otro`, client: JUNTOS }] }), req())), 'Server.ServerProxy.AccessDenied');
  });

  it('each agreement problem has its own code', () => {
    assert.equal(codeOf(decideAccess(rules(), req({ convenio: undefined }))), 'Server.ServerProxy.MissingAgreement');
    assert.equal(codeOf(decideAccess(rules(), req({ convenio: 'CONV-9' }))), 'Server.ServerProxy.UnknownAgreement');
    // an agreement of another provider with that id does not count
    const foreign = { ...agreement, provider: 'PE/GOB/20545565359' };
    assert.equal(codeOf(decideAccess(rules({ agreements: [foreign] }), req())), 'Server.ServerProxy.UnknownAgreement');
    const expired = decideAccess(rules({ today: '2027-01-01' }), req());
    assert.equal(codeOf(expired), 'Server.ServerProxy.AgreementNotInForce');
    assert.match(!expired.allowed ? expired.detail : '', /venció el 2026-12-31/);
    const early = decideAccess(rules({ today: '2025-12-31' }), req());
    assert.match(!early.allowed ? early.detail : '', /rige desde el 2026-01-01/);
    // both ends are inclusive
    assert.equal(codeOf(decideAccess(rules({ today: '2026-01-01' }), req())), 'ok');
    assert.equal(codeOf(decideAccess(rules({ today: '2026-12-31' }), req())), 'ok');
  });

  it('the agreement must cover the client and the service', () => {
    const withP65 = rules({ acl: new Map([[SERVICE, new Set([JUNTOS, P65])]]) });
    const d = decideAccess(withP65, req({ client: P65 }));
    assert.equal(codeOf(d), 'Server.ServerProxy.AgreementDoesNotCover');
    assert.match(!d.allowed ? d.detail : '', /cliente PE\/GOB\/20511343081\/PENSION65/);
    const other = `${PROVIDER}/RUPN/consultarFoto`;
    const r2 = rules({ localServices: new Set([SERVICE, other]), acl: new Map([[other, new Set([JUNTOS])]]) });
    const d2 = decideAccess(r2, req({ service: `${other}/v1` }));
    assert.equal(codeOf(d2), 'Server.ServerProxy.AgreementDoesNotCover');
    assert.match(!d2.allowed ? d2.detail : '', /servicio/);
    // a member-wide agreement covers all its subsystems
    assert.equal(codeOf(decideAccess(rules({ agreements: [{ ...agreement, clients: ['PE/GOB/20511268401'] }] }), req())), 'ok');
  });

  it('the purpose must be stated and allowed', () => {
    assert.equal(codeOf(decideAccess(rules(), req({ finalidad: undefined }))), 'Server.ServerProxy.PurposeNotAllowed');
    const d = decideAccess(rules(), req({ finalidad: 'MARKETING' }));
    assert.equal(codeOf(d), 'Server.ServerProxy.PurposeNotAllowed');
    assert.match(!d.allowed ? d.detail : '', /MARKETING.*FOCALIZACION, AFILIACION/);
    assert.equal(codeOf(decideAccess(rules(), req({ finalidad: 'AFILIACION' }))), 'ok');
  });

  it('allowedServiceKeys keeps services with a right and an agreement in force for the client', () => {
    const other = `${PROVIDER}/RUPN/consultarFoto`;
    const r = rules({ acl: new Map([[SERVICE, new Set([JUNTOS])], [other, new Set([JUNTOS])]]) });
    assert.deepEqual(allowedServiceKeys(r, parseClientId(JUNTOS), [SERVICE, other]), [SERVICE]);
    assert.deepEqual(allowedServiceKeys({ ...r, today: '2027-02-01' }, parseClientId(JUNTOS), [SERVICE]), []);
    assert.deepEqual(allowedServiceKeys(r, parseClientId(P65), [SERVICE]), []);
  });

  it('limaDate is the calendar date in Lima (UTC−5)', () => {
    assert.equal(limaDate(new Date('2026-03-01T04:59:59Z')), '2026-02-28');
    assert.equal(limaDate(new Date('2026-03-01T05:00:00Z')), '2026-03-01');
  });
});
