import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MiisError } from '../../core/errors.js';
import {
  clientIdToXml, escapeXml, formatClientId, formatMemberId, formatServiceId, parseClientId,
  parseServiceId, providerOf, sameMember, serviceIdToXml, serviceKey,
} from '../../core/identifiers.js';

function isInvalidIdentifier(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof MiisError);
    assert.equal(err.code, 'Config.InvalidIdentifier');
    assert.match(err.message, pattern);
    return true;
  };
}

describe('client identifiers', () => {
  it('parses members and subsystems', () => {
    assert.deepEqual(parseClientId('PE/GOB/20100255325'), {
      instance: 'PE', memberClass: 'GOB', memberCode: '20100255325', subsystemCode: undefined,
    });
    assert.deepEqual(parseClientId('PE-TEST/GOB/20512333797/pgh_consulta-v1.0'), {
      instance: 'PE-TEST', memberClass: 'GOB', memberCode: '20512333797', subsystemCode: 'pgh_consulta-v1.0',
    });
  });

  it('round-trips through the slash form', () => {
    for (const text of ['PE/GOB/20100255325', 'PE/GOB/20100255325/RENIEC', 'a.b/c_d/e-f/g']) {
      assert.equal(formatClientId(parseClientId(text)), text);
    }
    assert.equal(formatMemberId(parseClientId('PE/GOB/20100255325/SUB')), 'PE/GOB/20100255325');
  });

  it('refuses wrong part counts with the expected shape', () => {
    for (const text of ['PE/GOB', 'PE', '', 'PE/GOB/1/SUB/X']) {
      assert.throws(() => parseClientId(text), isInvalidIdentifier(/INSTANCIA\/CLASE\/CÓDIGO\[\/SUBSISTEMA\]/), text);
    }
  });

  it('refuses empty, too long and forbidden characters, naming the part', () => {
    assert.throws(() => parseClientId('PE//1'), isInvalidIdentifier(/clase «»/));
    assert.throws(() => parseClientId('PE/GOB/1/'), isInvalidIdentifier(/subsistema «»/));
    assert.throws(() => parseClientId('PE/GOB/1 2'), isInvalidIdentifier(/código de miembro «1 2»/));
    assert.throws(() => parseClientId('P:E/GOB/1'), isInvalidIdentifier(/instancia «P:E»/));
    assert.throws(() => parseClientId('PE/GOB/1/<x>'), isInvalidIdentifier(/subsistema/));
    assert.throws(() => parseClientId('PE/GOB/Ñandú'), isInvalidIdentifier(/código de miembro/));
    assert.equal(parseClientId(`PE/GOB/${'9'.repeat(64)}`).memberCode.length, 64);
    assert.throws(() => parseClientId(`PE/GOB/${'9'.repeat(65)}`), isInvalidIdentifier(/1 a 64 caracteres/));
  });
});

describe('service identifiers', () => {
  it('parses with and without version', () => {
    assert.deepEqual(parseServiceId('PE/GOB/20100255325/RENIEC/consultarDni/v1'), {
      instance: 'PE', memberClass: 'GOB', memberCode: '20100255325', subsystemCode: 'RENIEC',
      serviceCode: 'consultarDni', serviceVersion: 'v1',
    });
    const noVersion = parseServiceId('PE/GOB/20100255325/RENIEC/consultarDni');
    assert.equal(noVersion.serviceVersion, undefined);
    assert.equal(formatServiceId(noVersion), 'PE/GOB/20100255325/RENIEC/consultarDni');
  });

  it('round-trips and keys without version', () => {
    const text = 'PE/GOB/20100255325/RENIEC/consultarDni/v2';
    const id = parseServiceId(text);
    assert.equal(formatServiceId(id), text);
    assert.equal(serviceKey(id), 'PE/GOB/20100255325/RENIEC/consultarDni');
    assert.equal(serviceKey(parseServiceId('PE/GOB/20100255325/RENIEC/consultarDni/v1')), serviceKey(id));
  });

  it('requires the subsystem and refuses bad parts', () => {
    assert.throws(() => parseServiceId('PE/GOB/20100255325/consultarDni'), isInvalidIdentifier(/INSTANCIA\/CLASE\/CÓDIGO\/SUBSISTEMA\/SERVICIO/));
    assert.throws(() => parseServiceId('PE/GOB/1/S/svc/v1/x'), isInvalidIdentifier(/SERVICIO\[\/VERSIÓN\]/));
    assert.throws(() => parseServiceId('PE/GOB/1/S/svc/'), isInvalidIdentifier(/versión «»/));
    assert.throws(() => parseServiceId('PE/GOB/1/S/sv c'), isInvalidIdentifier(/servicio «sv c»/));
  });

  it('names the provider subsystem and compares members', () => {
    const id = parseServiceId('PE/GOB/20100255325/RENIEC/consultarDni/v1');
    assert.deepEqual(providerOf(id), parseClientId('PE/GOB/20100255325/RENIEC'));
    assert.equal(sameMember(id, parseClientId('PE/GOB/20100255325/OTRO')), true);
    assert.equal(sameMember(id, parseClientId('PE/GOB/20512333797/RENIEC')), false);
    assert.equal(sameMember(id, parseClientId('PE-TEST/GOB/20100255325')), false);
    assert.equal(sameMember(id, parseClientId('PE/COM/20100255325')), false);
  });
});

describe('XML form', () => {
  it('writes a member and a subsystem client', () => {
    assert.equal(
      clientIdToXml('xrd:client', parseClientId('PE/GOB/20100255325')),
      '<xrd:client id:objectType="MEMBER"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20100255325</id:memberCode></xrd:client>',
    );
    assert.equal(
      clientIdToXml('xrd:client', parseClientId('PE/GOB/20100255325/PGH')),
      '<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20100255325</id:memberCode><id:subsystemCode>PGH</id:subsystemCode></xrd:client>',
    );
  });

  it('writes a service with and without version', () => {
    const withVersion = serviceIdToXml('xrd:service', parseServiceId('PE/GOB/20100255325/RENIEC/consultarDni/v1'));
    assert.equal(
      withVersion,
      '<xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20100255325</id:memberCode><id:subsystemCode>RENIEC</id:subsystemCode><id:serviceCode>consultarDni</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>',
    );
    const noVersion = serviceIdToXml('xrd:service', parseServiceId('PE/GOB/20100255325/RENIEC/consultarDni'));
    assert.equal(noVersion, withVersion.replace('<id:serviceVersion>v1</id:serviceVersion>', ''));
  });

  it('escapes markup in values that did not come through the parser', () => {
    assert.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&apos;');
    const xml = clientIdToXml('xrd:client', { instance: 'P&E', memberClass: '<GOB>', memberCode: '1' });
    assert.match(xml, /<id:xRoadInstance>P&amp;E<\/id:xRoadInstance><id:memberClass>&lt;GOB&gt;<\/id:memberClass>/);
  });
});
