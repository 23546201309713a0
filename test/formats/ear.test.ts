/**
 * Elements for Authenticating Requests, TS 33.180 §9.6 and Annex J: the EAR PAYLOAD layout of
 * Table J.1.2-1 with every field and the Request of J.2, the §8.5.5 envelope and its signed part,
 * ECCSI signing and verifyEar (§9.6.5.4: trusted KMS, time window, Request Expiry, signature and
 * UID of the Source ID, replay claimed last), the Authorised Identity examples of J.3.4 and the
 * authorisation rules (privileged, off-network, server roles, target, origin, request type,
 * signing KMS, expiry), strict refusals with code and field, and fast-check totality, round trip
 * and truncation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as c from '../../src/crypto/index.js';
import { FormatError, McsecError } from '../../src/errors/index.js';
import {
  AUTHORISATION_BITS,
  EAR_CONTENT_TYPE,
  EarRequestType,
  EarRole,
  OFF_NETWORK_REQUEST_IDS,
  PRIVILEGED_REQUEST_IDS,
  checkEarAuthorisation,
  createEar,
  decodeAuthenticatedPayload,
  decodeAuthorisedIdentity,
  decodeEar,
  decodeEarPayload,
  earIdToString,
  earPayloadOf,
  encodeAuthenticatedPayload,
  encodeAuthorisedIdentity,
  encodeEar,
  encodeEarPayload,
  grantsOfScopes,
  hasAuthorisation,
  verifyEar,
  type EarExpectations,
  type EarPayload,
  type EarSigner,
  type EarVerifierContext,
} from '../../src/formats/ear/index.js';
import { MemoryReplayCache } from '../../src/formats/mikey/index.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/util/index.js';
import { arbAuthenticatedPayload, arbEarPayload } from '../fixtures/ear-arbitraries.js';

const periods = { userKeyPeriod: 2_592_000, userKeyOffset: 0 };
const kmsUri = 'kms.example.org';
const kms = c.generateEccsiKmsKey();
const now = new Date('2026-11-28T12:00:00Z');
const earId = fromHex('0f1e2d3c4b5a4978a796a5b4c3d2e1f0'); // version 4, variant 10

function signerFor(uri: string, k = kms, kUri = kmsUri): EarSigner {
  const uid = c.deriveUid({ uri, kmsUri: kUri, ...periods, keyPeriodNo: c.keyPeriodNoAt(now, periods.userKeyPeriod, periods.userKeyOffset) });
  return { uri, kmsUri: kUri, ...periods, kpak: k.kpak, ...c.generateEccsiPair(k, uid) };
}
const dispatcher = 'sip:mc.dispatcher@example.org?mc-role-client=07&mc-priv-mcptt=07&mc-priv-mcvideo=07&mc-priv-mcdata=7f';
const user = 'sip:mc.user@example.org?mc-role-client=01&mc-offnet-mcptt=0f';
const target = 'sip:target@example.org';

function ctx(extra: Partial<EarVerifierContext> = {}): EarVerifierContext {
  return {
    trustedKms: (u) => (u === kmsUri ? { kpak: kms.kpak, ...periods } : undefined),
    replayCache: new MemoryReplayCache(),
    now: () => now,
    ...extra,
  };
}

async function rejects(p: Promise<unknown>, code: string, field?: string): Promise<McsecError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof McsecError, String(err));
    assert.equal(err.code, code, err.message);
    if (field !== undefined) assert.equal(err.field, field);
    return err;
  }
  assert.fail(`expected ${code}`);
}
function throwsCode(fn: () => unknown, code: string, field?: string): McsecError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof McsecError, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (field !== undefined) assert.equal(caught.field, field);
  return caught;
}

const payload = (extra: Partial<EarPayload> = {}): EarPayload => ({
  ...earPayloadOf({
    dateTime: now,
    earId,
    sourceRole: EarRole.CLIENT,
    sourceId: 'sip:a@x',
    targetRole: EarRole.CLIENT,
    targetId: 'sip:b@x',
    request: { requestType: EarRequestType.PRIVILEGED, requestId: 0x0102, requestExpiry: new Date(now.getTime() + 3_600_000) },
  }),
  ...extra,
});

test('Table J.1.2-1 layout: message ID, Date and time (5), EAR ID (16), roles, LV-E IDs, Request TLV-E (type, Request ID TV, Request Expiry TV)', () => {
  const hex = toHex(encodeEarPayload(payload()));
  const secs = (now.getTime() / 1000).toString(16).padStart(10, '0');
  const exp = (now.getTime() / 1000 + 3600).toString(16).padStart(10, '0');
  assert.equal(
    hex,
    `00${secs}${toHex(earId)}01` + `0007${toHex(utf8('sip:a@x'))}01` + `0007${toHex(utf8('sip:b@x'))}` + `00000a01` + `000102` + `00${exp}`,
  );
  assert.equal(EAR_CONTENT_TYPE, 'application/vnd.3gpp.mc-signalling-ear');
  assert.equal(earIdToString(earId), '0f1e2d3c-4b5a-4978-a796-a5b4c3d2e1f0');
});

test('J.2: the Request is told apart by its length (1, 4, 7, 10 octets); IEIs are reported as received', () => {
  const base = payload();
  const variants: EarPayload[] = [
    { ...base, request: undefined },
    { ...base, request: { iei: 0x77, requestType: 3, requestId: undefined, requestExpiry: undefined } },
    { ...base, request: { iei: 1, requestType: 1, requestId: { iei: 0x55, value: 0x0105 }, requestExpiry: undefined } },
    { ...base, request: { iei: 2, requestType: 5, requestId: undefined, requestExpiry: { iei: 0x66, value: new Date(1_800_000_000_000) } } },
    { ...base, request: { iei: 3, requestType: 6, requestId: { iei: 9, value: 0x800a }, requestExpiry: { iei: 8, value: new Date(0) } } },
  ];
  for (const v of variants) assert.deepEqual(decodeEarPayload(encodeEarPayload(v)), v);
});

test('Tables J.2.5.2-1 / J.2.5.3-1 as data: 13 privileged and 10 off-network Request IDs, each with its J.3.3 bit', () => {
  assert.deepEqual(PRIVILEGED_REQUEST_IDS.map((e) => e.requestId), Array.from({ length: 13 }, (_, i) => 0x0101 + i));
  assert.deepEqual(OFF_NETWORK_REQUEST_IDS.map((e) => e.requestId), Array.from({ length: 10 }, (_, i) => 0x8001 + i));
  assert.equal(PRIVILEGED_REQUEST_IDS[1]?.name, 'MCPTT Ambient listening call request');
  assert.deepEqual([PRIVILEGED_REQUEST_IDS[12]?.field, PRIVILEGED_REQUEST_IDS[12]?.bit], ['mc-priv-mcdata', 6]);
  assert.deepEqual([OFF_NETWORK_REQUEST_IDS[2]?.field, OFF_NETWORK_REQUEST_IDS[2]?.bit], ['mc-offnet-mcptt', 3]);
  assert.equal(AUTHORISATION_BITS['mc-role-server'][2]?.scope, '3gpp:mc:auth:role:server:is_proxy');
  assert.equal(AUTHORISATION_BITS['mc-priv-mcdata'][5]?.scope, '3gpp:mc:auth:priv:mcdata:fd:mandatory_req');
});

test('EAR PAYLOAD refusals name the field: reserved values, misplaced Request ID, bad lengths, empty IDs, UUID form', () => {
  const good = encodeEarPayload(payload());
  const at = (i: number, v: number): Uint8Array => {
    const b = good.slice();
    b[i] = v;
    return b;
  };
  const srcRole = 1 + 5 + 16;
  throwsCode(() => decodeEarPayload(at(srcRole, 4)), 'ERR_UNSUPPORTED', 'ear.payload.sourceRole');
  throwsCode(() => decodeEarPayload(at(srcRole, 0)), 'ERR_UNSUPPORTED', 'ear.payload.sourceRole');
  const tgtRole = srcRole + 1 + 2 + 7;
  throwsCode(() => decodeEarPayload(at(tgtRole, 9)), 'ERR_UNSUPPORTED', 'ear.payload.targetRole');
  const reqType = tgtRole + 1 + 2 + 7 + 3;
  throwsCode(() => decodeEarPayload(at(reqType, 4)), 'ERR_UNSUPPORTED', 'ear.payload.request.requestType');
  throwsCode(() => decodeEarPayload(at(reqType, 3)), 'ERR_BAD_VALUE', 'ear.payload.request.requestId'); // GROUP: no Request ID
  throwsCode(() => decodeEarPayload(at(reqType + 3, 0x0e)), 'ERR_UNSUPPORTED', 'ear.payload.request.requestId'); // 0x010e undefined
  throwsCode(() => decodeEarPayload(at(reqType - 1, 9)), 'ERR_BAD_LENGTH', 'ear.payload.request.length'); // 10 -> 9
  throwsCode(() => decodeEarPayload(at(1 + 5 + 8, 0x4f)), 'ERR_BAD_VALUE', 'ear.payload.earId'); // variant 01
  throwsCode(() => decodeEarPayload(at(1 + 5 + 6, 0x0f)), 'ERR_BAD_VALUE', 'ear.payload.earId'); // version 0
  throwsCode(() => encodeEarPayload(payload({ sourceId: '' })), 'ERR_BAD_VALUE', 'ear.payload.sourceId');
  const empty = concatBytes(good.subarray(0, srcRole + 1), Uint8Array.of(0, 0), good.subarray(srcRole + 1 + 2 + 7));
  throwsCode(() => decodeEarPayload(empty), 'ERR_BAD_VALUE', 'ear.payload.sourceId');
  const badUtf8 = at(srcRole + 3, 0xff);
  throwsCode(() => decodeEarPayload(badUtf8), 'ERR_BAD_VALUE', 'ear.payload.sourceId');
  throwsCode(() => decodeEarPayload(good.subarray(0, 20)), 'ERR_TRUNCATED', 'ear.payload.earId');
  throwsCode(() => decodeEarPayload(good.subarray(0, good.length - 1)), 'ERR_TRUNCATED', 'ear.payload.request');
  // Octets after a complete Request TLV-E are ERR_TRAILING_BYTES (a second Request too).
  throwsCode(() => decodeEarPayload(concatBytes(good, Uint8Array.of(0))), 'ERR_TRAILING_BYTES', 'ear.payload');
  const noRequest = encodeEarPayload(payload({ request: undefined }));
  const twoRequests = concatBytes(noRequest, Uint8Array.of(0, 0, 1, 2), Uint8Array.of(0, 0, 1, 3));
  throwsCode(() => decodeEarPayload(twoRequests), 'ERR_TRAILING_BYTES', 'ear.payload');
});

test('§8.5.5 envelope: the signature covers everything up to and including its IEI and length; refusals', () => {
  const signer = signerFor('sip:a@x');
  const ear = createEar({ ...payload(), request: { requestType: 1, requestId: 0x0102 } }, signer);
  const d = decodeEar(ear);
  assert.equal(toHex(d.signedPart), toHex(ear.subarray(0, ear.length - 129)));
  assert.equal(toHex(ear.subarray(ear.length - 132, ear.length - 129)), '000081'); // IEI 0, length 129
  assert.equal(d.algorithm, 1);
  assert.equal(d.signingKmsUri, kmsUri);
  assert.deepEqual(encodeEar(d), ear);
  const orig = 3 + d.signedPart[1]! * 256 + d.signedPart[2]!;
  const set = (i: number, v: number): Uint8Array => {
    const b = ear.slice();
    b[i] = v;
    return b;
  };
  throwsCode(() => decodeEar(set(orig, 2)), 'ERR_UNSUPPORTED', 'ear.algorithm');
  throwsCode(() => decodeEar(set(orig + 5, 31)), 'ERR_BAD_LENGTH', 'ear.signingData.signingUid.length');
  throwsCode(() => decodeEar(set(ear.length - 130, 0x80)), 'ERR_BAD_LENGTH', 'ear.signature.length');
  throwsCode(() => decodeEar(ear.subarray(0, ear.length - 1)), 'ERR_TRUNCATED', 'ear.signature.value');
  throwsCode(() => decodeEar(concatBytes(ear, Uint8Array.of(0))), 'ERR_TRAILING_BYTES', 'ear');
});

test('createEar / verifyEar: ECCSI by the Source ID; the verified payload and no authorisation without expectations', async () => {
  const signer = signerFor(dispatcher);
  const ear = createEar({ dateTime: now, sourceRole: 1, sourceId: dispatcher, targetRole: 1, targetId: target, request: { requestType: 1, requestId: 0x0102 } }, signer);
  const v = await verifyEar(ear, ctx());
  assert.equal(v.payload.sourceId, dispatcher);
  assert.equal(v.payload.request?.requestId?.value, 0x0102);
  assert.equal(v.authorisation, undefined);
  assert.ok(Object.isFrozen(v) && Object.isFrozen(v.payload));
  throwsCode(() => createEar({ dateTime: now, sourceRole: 1, sourceId: 'sip:other@x', targetRole: 1, targetId: target }, signer), 'ERR_BAD_VALUE', 'ear.payload.sourceId');
});

test('verifyEar refusals: untrusted KMS, stale time, passed expiry, changed octet, UID of another identity — and replay last', async () => {
  const signer = signerFor('sip:a@x');
  const input = { dateTime: now, sourceRole: 1 as const, sourceId: 'sip:a@x', targetRole: 1 as const, targetId: target };
  const ear = createEar(input, signer);
  await rejects(verifyEar(ear, ctx({ trustedKms: () => undefined })), 'ERR_UNKNOWN_KEY', 'ear.signingData.signingKms');
  await rejects(verifyEar(ear, ctx({ now: () => new Date(now.getTime() + 300_001) })), 'ERR_EXPIRED', 'ear.payload.dateTime');
  await verifyEar(ear, ctx({ now: () => new Date(now.getTime() + 300_000) }));
  const expired = createEar({ ...input, request: { requestType: 3, requestExpiry: new Date(now.getTime() - 1000) } }, signer);
  await rejects(verifyEar(expired, ctx()), 'ERR_EXPIRED', 'ear.payload.request.requestExpiry');
  // Any changed octet of the signed part or the signature: one uniform ERR_SIGNATURE (or a decode error).
  const errors: McsecError[] = [];
  for (let i = 0; i < ear.length; i += 5) {
    const b = ear.slice();
    b[i] = (b[i] ?? 0) ^ 0x01;
    try {
      await verifyEar(b, ctx());
      assert.fail(`octet ${i} changed, still verified`);
    } catch (err) {
      assert.ok(err instanceof McsecError, String(err));
      if (err.code === 'ERR_SIGNATURE') errors.push(err);
      else assert.ok(err instanceof FormatError || err.code === 'ERR_EXPIRED' || err.code === 'ERR_UNKNOWN_KEY', `${i}: ${err.message}`);
    }
  }
  assert.ok(errors.length > 20);
  // Alice signs honestly with her own UID, but claims Bob as Source ID (step 4 / §8.5.5).
  const alice = signerFor('sip:alice@x');
  const aliceUid = c.deriveUid({ uri: 'sip:alice@x', kmsUri, ...periods, keyPeriodNo: c.keyPeriodNoAt(now, periods.userKeyPeriod, 0) });
  const forged = encodeAuthenticatedPayload(
    { originalPayload: encodeEarPayload(earPayloadOf({ ...input, sourceId: 'sip:bob@x', earId })), algorithm: 1, signingUid: aliceUid, signingKmsUri: kmsUri, ieis: { originalPayload: 0, signingData: 0, signingUid: 0, signingKms: 0, signature: 0 } },
    (signed) => c.signEccsi(signed, { kpak: kms.kpak, id: aliceUid, ssk: alice.ssk, pvt: alice.pvt }),
  );
  errors.push(await rejects(verifyEar(forged, ctx()), 'ERR_SIGNATURE', 'ear.signature'));
  // Another KMS's key under a trusted KMS URI.
  const rogue = c.generateEccsiKmsKey();
  errors.push(await rejects(verifyEar(createEar(input, signerFor('sip:a@x', rogue)), ctx()), 'ERR_SIGNATURE', 'ear.signature'));
  assert.equal(new Set(errors.map((e) => `${e.field}|${e.rule}|${e.clause ?? ''}`)).size, 1, 'ERR_SIGNATURE is uniform');
  // Replay: refused the second time; a refusal before the claim does not consume the EAR ID.
  const cache = new MemoryReplayCache();
  const refused = await rejects(
    verifyEar(ear, ctx({ replayCache: cache, expect: { isTarget: () => false } })),
    'ERR_FORBIDDEN',
    'ear.payload.targetId',
  );
  assert.equal(refused.clause, 'TS 33.180 §9.6.5.4 step 2');
  assert.equal(cache.size, 0);
  await verifyEar(ear, ctx({ replayCache: cache }));
  await rejects(verifyEar(ear, ctx({ replayCache: cache })), 'ERR_REPLAY', 'ear.payload.earId');
});

test('J.3.4 examples: Authorised Identities from IdM scopes, and their bits', () => {
  const userScopes = [
    '3gpp:mc:auth:role:client:ptt',
    '3gpp:mc:auth:offnet:mcptt:use',
    '3gpp:mc:auth:offnet:mcptt:group_call_announcement',
    '3gpp:mc:auth:offnet:mcptt:emergency_alert_announcement',
    '3gpp:mc:auth:offnet:mcptt:call_setup_req',
  ];
  assert.equal(encodeAuthorisedIdentity('sip:mc.user@example.org', grantsOfScopes(userScopes)), user);
  const dispatcherScopes = Object.entries(AUTHORISATION_BITS)
    .filter(([name]) => name === 'mc-role-client' || name.startsWith('mc-priv-'))
    .flatMap(([, bits]) => bits.map((b) => b.scope));
  // J.3.4.3 writes "sip: mc.dispatcher@…" with a stray space; the identity is without it.
  assert.equal(encodeAuthorisedIdentity('sip:mc.dispatcher@example.org', grantsOfScopes(dispatcherScopes)), dispatcher);
  const id = decodeAuthorisedIdentity(user);
  assert.equal(id.identity, 'sip:mc.user@example.org');
  assert.ok(id.authorised);
  assert.deepEqual([0, 1, 2, 3, 4].map((b) => hasAuthorisation(id, 'mc-offnet-mcptt', b)), [true, true, true, true, false]);
  assert.ok(!hasAuthorisation(id, 'mc-priv-mcptt', 0));
  assert.ok(hasAuthorisation(decodeAuthorisedIdentity('sip:x@y?mc-role-server=0001'), 'mc-role-server', 8));
  assert.deepEqual(decodeAuthorisedIdentity('sip:x@y?other=1&mc-role-client=02').fields['mc-role-client'], Uint8Array.of(2));
  assert.equal(decodeAuthorisedIdentity('sip:x@y').authorised, false);
  const q = decodeAuthorisedIdentity('sip:who?me@y;transport=tcp?mc-role-client=04');
  assert.deepEqual([q.identity, hasAuthorisation(q, 'mc-role-client', 2)], ['sip:who?me@y;transport=tcp', true]);
  throwsCode(() => decodeAuthorisedIdentity('sip:x@y?mc-role-client=1', 's'), 'ERR_BAD_VALUE', 's.mc-role-client');
  throwsCode(() => decodeAuthorisedIdentity('sip:x@y?mc-role-client=01&mc-role-client=02', 's'), 'ERR_BAD_VALUE', 's.mc-role-client');
  throwsCode(() => decodeAuthorisedIdentity(`sip:x@y?mc-priv-mcdata=${'00'.repeat(129)}`, 's'), 'ERR_BAD_VALUE', 's.mc-priv-mcdata');
  throwsCode(() => decodeAuthorisedIdentity('sip:x@y?', 's'), 'ERR_BAD_VALUE', 's');
});

const expect = (extra: Partial<EarExpectations> = {}): EarExpectations => ({ isTarget: (id) => id === target, ...extra });
const p = (sourceId: string, request: EarPayload['request'], extra: Partial<EarPayload> = {}): EarPayload => ({ ...payload(), sourceId, targetId: target, request, ...extra });
const req = (requestType: 1 | 2 | 3 | 5 | 6, requestId?: number, expiry?: Date): EarPayload['request'] => ({
  iei: 0,
  requestType,
  requestId: requestId === undefined ? undefined : { iei: 0, value: requestId },
  requestExpiry: expiry === undefined ? undefined : { iei: 0, value: expiry },
});

test('§9.6.2.2 privileged signalling: the mc-priv bit of the Request ID; an unauthorised identity is ERR_FORBIDDEN', () => {
  const a = checkEarAuthorisation(p(dispatcher, req(1, 0x0102)), kmsUri, expect({ requestType: 1, requestId: 0x0102, origin: 'sip:mc.dispatcher@example.org' }));
  assert.deepEqual(a.checked, [{ field: 'mc-priv-mcptt', bit: 1 }]);
  assert.equal(a.identity.identity, 'sip:mc.dispatcher@example.org');
  throwsCode(() => checkEarAuthorisation(p('sip:plain@x', req(1, 0x0102)), kmsUri, expect()), 'ERR_FORBIDDEN', 'ear.payload.sourceId');
  throwsCode(() => checkEarAuthorisation(p('sip:u@x?mc-priv-mcptt=01', req(1, 0x0102)), kmsUri, expect()), 'ERR_FORBIDDEN', 'ear.payload.sourceId.mc-priv-mcptt');
  throwsCode(() => checkEarAuthorisation(p(dispatcher, req(1)), kmsUri, expect()), 'ERR_FORBIDDEN', 'ear.payload.request.requestId');
  // MCData FD with mandatory indication: bit 5 of mc-priv-mcdata (dispatcher has 7f).
  assert.deepEqual(checkEarAuthorisation(p(dispatcher, req(1, 0x010c)), kmsUri, expect()).checked, [{ field: 'mc-priv-mcdata', bit: 5 }]);
});

test('§9.6.2.6 off-network: client role, the service "use" bit and the request bit', () => {
  const a = checkEarAuthorisation(p(user, req(6, 0x8003)), kmsUri, expect({ requestType: 6 }));
  assert.deepEqual(a.checked, [{ field: 'mc-role-client', bit: 0 }, { field: 'mc-offnet-mcptt', bit: 0 }, { field: 'mc-offnet-mcptt', bit: 3 }]);
  throwsCode(() => checkEarAuthorisation(p('sip:u@x?mc-role-client=01&mc-offnet-mcptt=0e', req(6, 0x8003)), kmsUri, expect()), 'ERR_FORBIDDEN', 'ear.payload.sourceId.mc-offnet-mcptt');
  throwsCode(() => checkEarAuthorisation(p('sip:u@x?mc-offnet-mcptt=0f', req(6, 0x8003)), kmsUri, expect()), 'ERR_FORBIDDEN', 'ear.payload.sourceId.mc-role-client');
  throwsCode(() => checkEarAuthorisation(p(user, req(6, 0x8004)), kmsUri, expect()), 'ERR_FORBIDDEN', 'ear.payload.sourceId.mc-role-client'); // MCVideo: no video client role
});

test('§9.6.2.3 server roles, target, origin, request type / ID, signing KMS and Request Expiry (§9.6.5.4 steps 2, 5, 6, 7)', () => {
  const gms = 'sip:gms.example.org?mc-role-server=01';
  const isProxy = 'sip:isp.example.org?mc-role-server=04';
  const server = (id: string, roles: EarExpectations['serverRoles']): unknown =>
    checkEarAuthorisation(p(id, req(3), { sourceRole: 3 }), kmsUri, expect({ serverRoles: roles, sourceRoles: [3] }));
  assert.deepEqual((server(gms, ['GMS']) as { checked: unknown }).checked, [{ field: 'mc-role-server', bit: 0 }]);
  assert.deepEqual((server(isProxy, ['MCPTT_SERVER', 'IS_PROXY']) as { checked: unknown }).checked, [{ field: 'mc-role-server', bit: 2 }]);
  throwsCode(() => server('sip:mcptt.example.org?mc-role-server=08', ['GMS']), 'ERR_FORBIDDEN', 'ear.payload.sourceId.mc-role-server');
  throwsCode(() => server('sip:gms.example.org', ['GMS']), 'ERR_FORBIDDEN', 'ear.payload.sourceId');
  throwsCode(() => checkEarAuthorisation(p(gms, req(3)), kmsUri, expect({ sourceRoles: [3] })), 'ERR_FORBIDDEN', 'ear.payload.sourceRole');
  throwsCode(() => checkEarAuthorisation(p(gms, req(3), { targetId: 'sip:other@x' }), kmsUri, expect()), 'ERR_FORBIDDEN', 'ear.payload.targetId');
  throwsCode(() => checkEarAuthorisation(p(dispatcher, req(1, 0x0102)), kmsUri, expect({ origin: 'sip:someone.else@example.org' })), 'ERR_FORBIDDEN', 'ear.payload.sourceId');
  throwsCode(() => checkEarAuthorisation(p(dispatcher, req(1, 0x0102)), kmsUri, expect({ requestType: 6 })), 'ERR_FORBIDDEN', 'ear.payload.request.requestType');
  throwsCode(() => checkEarAuthorisation(p(dispatcher, req(1, 0x0102)), kmsUri, expect({ requestType: 1, requestId: 0x0101 })), 'ERR_FORBIDDEN', 'ear.payload.request.requestId');
  throwsCode(() => checkEarAuthorisation(p(dispatcher, undefined), kmsUri, expect({ requestType: 1 })), 'ERR_FORBIDDEN', 'ear.payload.request.requestType');
  throwsCode(
    () => checkEarAuthorisation(p(dispatcher, req(1, 0x0102)), kmsUri, expect({ kmsMayAuthorise: (k, t) => k !== kmsUri || t !== 1 })),
    'ERR_FORBIDDEN',
    'ear.signingData.signingKms',
  );
  const until = new Date(now.getTime() + 60_000);
  checkEarAuthorisation(p(dispatcher, req(1, 0x0102, until)), kmsUri, expect({ endsAt: until }));
  throwsCode(() => checkEarAuthorisation(p(dispatcher, req(1, 0x0102, until)), kmsUri, expect({ endsAt: new Date(until.getTime() + 1000) })), 'ERR_FORBIDDEN', 'ear.payload.request.requestExpiry');
  // A plain identity is fine where nothing needs authorising (§9.6.2.4 GM client), unless required.
  checkEarAuthorisation(p('sip:member@x', req(3)), kmsUri, expect());
  throwsCode(() => checkEarAuthorisation(p('sip:member@x', req(3)), kmsUri, expect({ requireAuthorisedIdentity: true })), 'ERR_FORBIDDEN', 'ear.payload.sourceId');
});

test('verifyEar with expectations: an ambient listening request signed with the dispatcher\'s Authorised Identity', async () => {
  const signer = signerFor(dispatcher);
  const ear = createEar({ dateTime: now, sourceRole: 1, sourceId: dispatcher, targetRole: 1, targetId: target, request: { requestType: 1, requestId: 0x0102, requestExpiry: new Date(now.getTime() + 600_000) } }, signer);
  const v = await verifyEar(ear, ctx({ expect: expect({ requestType: 1, requestId: 0x0102, origin: 'sip:mc.dispatcher@example.org', endsAt: new Date(now.getTime() + 300_000) }) }));
  assert.deepEqual(v.authorisation?.checked, [{ field: 'mc-priv-mcptt', bit: 1 }]);
  assert.equal(v.requestExpiry?.getTime(), now.getTime() + 600_000);
  // The same request by the dispatcher's plain identity (keys for it exist too, §9.6.3.2) is not authorised.
  const plain = 'sip:mc.dispatcher@example.org';
  const ear2 = createEar({ dateTime: now, sourceRole: 1, sourceId: plain, targetRole: 1, targetId: target, request: { requestType: 1, requestId: 0x0102 } }, signerFor(plain));
  await rejects(verifyEar(ear2, ctx({ expect: expect({ requestType: 1 }) })), 'ERR_FORBIDDEN', 'ear.payload.sourceId');
});

test('property: decodeEarPayload(encodeEarPayload(p)) = p, and the payload minus its last octet is ERR_TRUNCATED', () => {
  fc.assert(
    fc.property(arbEarPayload, (e) => {
      const bytes = encodeEarPayload(e);
      assert.deepEqual(decodeEarPayload(bytes), e);
      assert.throws(() => decodeEarPayload(bytes.subarray(0, -1)), { code: 'ERR_TRUNCATED' });
    }),
    { numRuns: 500 },
  );
});

test('property: the §8.5.5 envelope round-trips, and decodeEar is total on arbitrary and mutated input', () => {
  fc.assert(
    fc.property(arbAuthenticatedPayload, (a) => {
      const bytes = encodeAuthenticatedPayload(a, () => a.signature);
      const { signedPart, ...back } = decodeAuthenticatedPayload(bytes);
      assert.deepEqual(back, a);
      assert.deepEqual(signedPart, bytes.subarray(0, bytes.length - 129));
      assert.throws(() => decodeAuthenticatedPayload(bytes.subarray(0, -1)), { code: 'ERR_TRUNCATED' });
    }),
    { numRuns: 300 },
  );
  const total = (bytes: Uint8Array): void => {
    try {
      decodeEar(bytes);
    } catch (err) {
      assert.ok(err instanceof FormatError, String(err));
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), total), { numRuns: 1000 });
  const ear = createEar({ dateTime: now, sourceRole: 1, sourceId: dispatcher, targetRole: 1, targetId: target, request: { requestType: 6, requestId: 0x8001, requestExpiry: now } }, signerFor(dispatcher));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(ear.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(ear.length), (edits, cut) => {
      const b = ear.slice(0, Math.max(cut, 1));
      for (const [i, v] of edits) if (i < b.length) b[i] = v;
      total(b);
    }),
    { numRuns: 1000 },
  );
});
