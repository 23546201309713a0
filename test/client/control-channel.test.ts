/**
 * SRTCP for floor control under the KFCs of TS 33.180 §9.4, end to end on loopback: a client
 * registers at an in-process MCX server with a CSK upload (real SIP over UDP), then sends RTCP APP
 * floor requests (TS 24.380 carries floor control in RTCP APP; here only bytes) over real UDP
 * protected under its CSK (§9.4.2: MKI = CSK-ID, CS-ID 6); the floor control server, keyed by
 * `McxControlChannel` from the MCX server's store, opens them and answers under the CSK; a MuSiK
 * received by key download protects a multicast-style answer (§9.4.3: CS-ID 7). A CSK update by
 * key download (§9.2.1.4) switches both sides. Bad input is dropped with typed reasons. libsrtp2
 * opens a CSK-protected SRTCP packet given the §9.4.6 master key, salt and MKI, and the server
 * opens libsrtp's. A missing libsrtp fails this file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { deriveKfcRand, deriveSrtcpMaster, generateKeyId } from '../../src/crypto/index.js';
import { McsecError } from '../../src/errors/index.js';
import { MemoryReplayCache } from '../../src/formats/mikey/index.js';
import type { SipResponse } from '../../src/formats/sip/index.js';
import { mikeyParts } from '../../src/formats/sip/mikey-parts.js';
import { SrtpSender, keyIdMki } from '../../src/formats/srtp/index.js';
import {
  McxControlChannel,
  McxMulticastControl,
  McxServerService,
  keyDownloadTransport,
  mcxServerConfig,
  serveMcxSip,
  type McxLogEntry,
} from '../../src/functions/mcx-server/index.js';
import { ControlChannelSession } from '../../src/client/control-channel.js';
import { McxClientKeys } from '../../src/client/mcx-client-keys.js';
import { MediaSocket, type MediaPeer } from '../../src/client/media-socket.js';
import type { MediaReceipt } from '../../src/client/media-session.js';
import { listenSip, type SipEndpoint } from '../../src/transport/sip/index.js';
import { fromHex, toHex } from '../../src/util/index.js';
import { SrtpHarness } from '../interop/srtp-harness.js';
import { MDSI, mcxWorld, type McxWorld } from '../helpers/mcx.js';

const ALICE = 'sip:alice@mcx.test';

/** An RTCP APP packet of TS 24.380 shape: subtype = message type, name "MCPT", then data. */
function floorMessage(subtype: number, ssrc: number, data = Uint8Array.of(0, 0, 0, subtype)): Uint8Array {
  const words = 2 + data.length / 4;
  const out = new Uint8Array(4 * (words + 1));
  const v = new DataView(out.buffer);
  out[0] = 0x80 | subtype;
  out[1] = 204;
  v.setUint16(2, words);
  v.setUint32(4, ssrc);
  out.set([0x4d, 0x43, 0x50, 0x54], 8);
  out.set(data, 12);
  return out;
}
const FLOOR_REQUEST = 0;
const FLOOR_GRANTED = 1;

/** Polls until `pred` holds; rejects (failing the test) if it never does. */
async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 4000; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never happened: ${what}`);
}

type ServerReceipt = { ok: true; packet: Uint8Array; kfcId: number; csId: number } | { ok: false; code: string; field: string };

let world: McxWorld;
let service: McxServerService;
let sipServer: SipEndpoint;
let stopSip: () => void;
const logs: McxLogEntry[] = [];
let lib: SrtpHarness;

// The client
let clientSip: SipEndpoint;
let keys: McxClientKeys;
let instance: string;
let session: ControlChannelSession;
let socket: MediaSocket;
const heard: MediaReceipt[] = [];
let clientSsrc: number;

// The floor control server: a UDP socket whose loop opens SRTCP with McxControlChannel.
let channel: McxControlChannel;
let fcs: dgram.Socket;
let fcsPeer: MediaPeer;
const serverHeard: ServerReceipt[] = [];
let grants = 0;

before(async () => {
  lib = SrtpHarness.start();
  world = await mcxWorld();
  service = new McxServerService({ config: mcxServerConfig({ mdsi: MDSI }), keys: world.serverKeys, store: world.mcxStore, replayCache: new MemoryReplayCache() });
  await service.prepare();
  sipServer = await listenSip({ udp: {} }, { transactionTimeoutMs: 20_000 });
  stopSip = serveMcxSip(sipServer, service, { log: (e) => logs.push(e) });

  keys = new McxClientKeys({ user: await world.userKeysOf(ALICE), server: { mdsi: MDSI } });
  clientSip = await listenSip({ udp: {} });
  clientSip.on('request', (req, from) => {
    if (mikeyParts(req).length > 0) void keys.applyKeyDownload(req).then((r) => from.respond(r.response));
  });
  session = new ControlChannelSession({ keys });
  socket = await MediaSocket.open({ session, onPacket: (r) => heard.push(r) });

  fcs = dgram.createSocket('udp4');
  fcs.on('message', (msg, rinfo) => {
    let r: ServerReceipt;
    try {
      r = { ok: true, ...channel.unprotect(new Uint8Array(msg)) };
    } catch (e) {
      r = e instanceof McsecError ? { ok: false, code: e.code, field: e.field } : { ok: false, code: 'not a McsecError', field: String(e) };
    }
    serverHeard.push(r);
    // A floor request is granted, under the client's CSK (§9.4.2 downlink).
    if (r.ok && r.packet[1] === 204 && ((r.packet[0] ?? 0) & 0x1f) === FLOOR_REQUEST) {
      grants++;
      fcs.send(channel.protect(floorMessage(FLOOR_GRANTED, 0x5e12_0001 + 0)), rinfo.port, rinfo.address);
    }
  });
  await new Promise<void>((resolve) => fcs.bind(0, '127.0.0.1', resolve));
  fcsPeer = { address: '127.0.0.1', port: fcs.address().port };
});

after(async () => {
  await socket?.close();
  await new Promise<void>((resolve) => (fcs === undefined ? resolve() : fcs.close(() => resolve())));
  await clientSip?.close();
  stopSip?.();
  await sipServer?.close();
  await world?.close();
  await lib?.close();
});

const ok = (): Extract<MediaReceipt, { ok: true }>[] => heard.filter((r): r is Extract<MediaReceipt, { ok: true }> => r.ok);
const csk = (): NonNullable<McxClientKeys['csk']> => {
  const c = keys.csk;
  assert.ok(c !== undefined, 'the client holds a CSK');
  return c;
};

describe('§9.4 SRTCP for floor control with the KFC keys', () => {
  test('register with a CSK upload; floor request and grant under the CSK over UDP (§9.4.2)', { timeout: 120_000 }, async () => {
    const port = clientSip.address('udp')?.port ?? 0;
    instance = `urn:uuid:${crypto.randomUUID()}`;
    const req = keys.registerRequest({ via: { transport: 'udp', host: '127.0.0.1', port }, contact: `sip:alice@127.0.0.1:${port};transport=udp`, instance: `<${instance}>`, expiresS: 600 });
    const res: SipResponse = await clientSip.request(req, { transport: 'udp', host: '127.0.0.1', port: sipServer.address('udp')?.port ?? 0 });
    assert.equal(res.status, 200);
    assert.ok(keys.confirmCsk(res));
    const c = csk();
    // The KFC-RAND is the RAND of the upload's I_MESSAGE (§9.4.2): the client draws it at random
    // (RFC 3830 §6.11) and the server keeps the one it received (0007_mcx_csk_rand).
    const row = await world.mcxStore.getCsk(c.keyId);
    assert.equal(toHex(row?.rand ?? new Uint8Array(0)), toHex(c.rand));
    assert.notEqual(toHex(c.rand), toHex(deriveKfcRand(c.key, c.keyId)));

    channel = await McxControlChannel.open(service, { userUri: ALICE, clientId: `<${instance}>` });
    assert.equal(channel.kfcId, c.keyId);

    clientSsrc = session.newSsrc();
    const request = floorMessage(FLOOR_REQUEST, clientSsrc);
    const wire = await socket.sendRtcp(request, fcsPeer);
    // MKI = CSK-ID (§9.4.6), after E || index; the payload is encrypted.
    assert.deepEqual(wire.subarray(-4), keyIdMki(c.keyId));
    assert.equal(((wire[wire.length - 8] ?? 0) & 0x80) !== 0, true, 'E = 1');
    assert.notDeepEqual(wire.subarray(8, 16), request.subarray(8, 16));
    await until(() => serverHeard.length === 1 && ok().length === 1, 'the server opens the request and the client the grant');
    assert.deepEqual(serverHeard[0], { ok: true, packet: request, kfcId: c.keyId, csId: 6 });
    const grant = ok()[0];
    assert.equal(grant?.kind, 'rtcp');
    assert.deepEqual([grant?.keyId, grant?.csId, grant?.csbId], [c.keyId, 6, c.keyId]);
    assert.deepEqual(grant?.packet, floorMessage(FLOOR_GRANTED, 0x5e12_0001));
    // The keys are what §9.4.6 gives with the CSK, its ID and RAND, CS-ID 6.
    const m = deriveSrtcpMaster({ kfc: c.key, kfcId: c.keyId, kfcRand: c.rand, csId: 6 });
    const mine = session.currentSenderKey();
    assert.deepEqual([toHex(mine.masterKey), toHex(mine.masterSalt)], [toHex(m.masterKey), toHex(m.masterSalt)]);
    // No key in any log line.
    assert.ok(!JSON.stringify(logs).includes(toHex(c.key)));
  });

  test('multicast downlink under a MuSiK received by key download (§9.4.3, CS-ID 7)', { timeout: 60_000 }, async () => {
    const musik = await service.createMusik({ groupId: 'sip:fire@mcx.test', lifetimeMs: 3_600_000 });
    const [sent] = await service.distributeMusik({ musikId: musik.musikId, userUris: [ALICE], transport: keyDownloadTransport(sipServer) });
    assert.equal(sent?.accepted, true);
    const held = keys.multicastKey(musik.musikId);
    assert.ok(held !== undefined);
    // The RAND the key download carried is the KFC-RAND the server re-derives.
    assert.equal(toHex(held.rand), toHex(deriveKfcRand(musik.musik, musik.musikId)));
    const multicast = await McxMulticastControl.open(service, musik.musikId);
    const mark = heard.length;
    const status = floorMessage(5, 0x5e12_0002, Uint8Array.of(1, 2, 3, 4));
    const wire = multicast.protect(status);
    assert.deepEqual(wire.subarray(-4), keyIdMki(musik.musikId));
    await socket.sendRaw(wire, socket.local); // delivered as a multicast would: to the client's port
    await until(() => heard.length === mark + 1, 'the client hears the multicast SRTCP');
    const r = heard[mark];
    assert.ok(r?.ok === true, r?.ok === false ? r.reason : '');
    assert.deepEqual([r.keyId, r.csId, r.csbId], [musik.musikId, 7, musik.musikId]);
    assert.deepEqual(r.packet, status);
  });

  test('bad input is dropped with typed reasons; nothing thrown out of the receive loops', { timeout: 60_000 }, async () => {
    const c = csk();
    const mark = heard.length;
    const before = session.stats.dropped;
    // 1. unknown KFC-ID: a CSK-ID the client does not hold
    const stranger = generateKeyId('CSK');
    const m = deriveSrtcpMaster({ kfc: new Uint8Array(16).fill(7), kfcId: stranger, kfcRand: new Uint8Array(16), csId: 6 });
    const unknown = new SrtpSender({ ...m, mki: keyIdMki(stranger) }).protectRtcp(floorMessage(FLOOR_GRANTED, 0x0bad_0001));
    // 2. a GMK-ID where a KFC-ID (CSK-ID) is expected
    const gmkId = generateKeyId('GMK');
    const gmkPacket = new SrtpSender({ ...m, mki: keyIdMki(gmkId) }).protectRtcp(floorMessage(FLOOR_GRANTED, 0x0bad_0002));
    // 3. a genuine packet under the CSK with a flipped tag bit, then 4. the genuine one twice (replay)
    const genuine = channel.protect(floorMessage(FLOOR_GRANTED, 0x5e12_0003));
    const flipped = genuine.slice();
    const tagAt = genuine.length - 4 - 4 - 1;
    flipped[tagAt] = (flipped[tagAt] ?? 0) ^ 1;
    // 5. RTP on the control channel
    const rtp = Uint8Array.of(0x80, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 1, 2, 3, 4);
    for (const p of [unknown, gmkPacket, flipped, genuine, genuine, rtp]) await socket.sendRaw(p, socket.local);
    await until(() => heard.length === mark + 6, 'six receipts');
    const got = heard.slice(mark).map((r) => (r.ok ? 'ok' : r.reason));
    assert.deepEqual(got, ['unknown-key', 'wrong-purpose', 'authentication', 'ok', 'replayed', 'malformed']);
    const after = session.stats.dropped;
    for (const reason of ['unknown-key', 'wrong-purpose', 'authentication', 'replayed', 'malformed'] as const) assert.equal(after[reason] - before[reason], 1, reason);
    const wrong = heard[mark + 1];
    assert.ok(wrong?.ok === false);
    assert.deepEqual([wrong.error.code, wrong.error.field], ['ERR_BAD_VALUE', 'srtp.mki.keyId']);
    assert.deepEqual(socket.errors, { listener: 0, socket: 0, unattached: 0 });

    // The server side refuses the same kinds, typed: a GMK-ID, another CSK, a bad tag, a replay.
    const sMark = serverHeard.length;
    const up = session.protectRtcp(floorMessage(3, clientSsrc));
    const upFlipped = up.slice();
    upFlipped[up.length - 9] = (upFlipped[up.length - 9] ?? 0) ^ 1;
    for (const p of [gmkPacket, unknown, upFlipped, up, up]) await socket.sendRaw(p, fcsPeer);
    await until(() => serverHeard.length === sMark + 5, 'five server receipts');
    const codes = serverHeard.slice(sMark).map((r) => (r.ok ? 'ok' : `${r.code} ${r.field}`));
    assert.deepEqual(codes, ['ERR_BAD_VALUE srtp.mki.keyId', 'ERR_UNKNOWN_KEY srtp.mki', 'ERR_DECRYPT srtcp', 'ok', codes[4]]);
    assert.match(codes[4] ?? '', /^ERR_REPLAY /);
    assert.equal(c.keyId, channel.kfcId);
  });

  test('a CSK update by key download switches both sides (§9.2.1.4)', { timeout: 60_000 }, async () => {
    const old = csk();
    // Packets made under the old CSK before the update, sent after it.
    const oldDown = channel.protect(floorMessage(FLOOR_GRANTED, 0x5e12_0004));
    const oldUp = session.protectRtcp(floorMessage(FLOOR_REQUEST, clientSsrc));
    const r = await service.updateCsk({ userUri: ALICE, clientId: `<${instance}>`, transport: keyDownloadTransport(sipServer) });
    assert.equal(r.accepted, true);
    const fresh = csk();
    assert.notEqual(fresh.keyId, old.keyId);
    assert.equal(toHex(fresh.rand), toHex(deriveKfcRand(fresh.key, fresh.keyId)));
    assert.equal(await channel.refresh(), fresh.keyId);
    assert.equal(session.sendingKfcId, fresh.keyId);

    const mark = heard.length;
    const sMark = serverHeard.length;
    const grantsBefore = grants;
    const request = floorMessage(FLOOR_REQUEST, clientSsrc, Uint8Array.of(9, 9, 9, 9));
    const wire = await socket.sendRtcp(request, fcsPeer);
    assert.deepEqual(wire.subarray(-4), keyIdMki(fresh.keyId));
    await until(() => serverHeard.length === sMark + 1 && grants === grantsBefore + 1 && heard.length === mark + 1, 'request and grant under the new CSK');
    assert.deepEqual(serverHeard[sMark], { ok: true, packet: request, kfcId: fresh.keyId, csId: 6 });
    const grant = heard[mark];
    assert.ok(grant?.ok === true);
    assert.equal(grant.keyId, fresh.keyId);
    // The old CSK is gone on both sides.
    await socket.sendRaw(oldDown, socket.local);
    await socket.sendRaw(oldUp, fcsPeer);
    await until(() => heard.length === mark + 2 && serverHeard.length === sMark + 2, 'the old-CSK packets are refused');
    const stale = heard[mark + 1];
    assert.ok(stale?.ok === false);
    assert.equal(stale.reason, 'unknown-key');
    assert.deepEqual(serverHeard[sMark + 1], { ok: false, code: 'ERR_UNKNOWN_KEY', field: 'srtp.mki' });
  });

  test('libsrtp2 opens CSK-protected SRTCP given the §9.4.6 master key, salt and MKI, and the server opens libsrtp\'s', { timeout: 60_000 }, async () => {
    const c = csk();
    const m = deriveSrtcpMaster({ kfc: c.key, kfcId: c.keyId, kfcRand: c.rand, csId: 6 });
    const mki = Uint8Array.of(c.keyId >>> 24, (c.keyId >>> 16) & 0xff, (c.keyId >>> 8) & 0xff, c.keyId & 0xff);
    await lib.session(7, [{ masterKey: m.masterKey, masterSalt: m.masterSalt, mki }]);
    const request = floorMessage(FLOOR_REQUEST, clientSsrc, Uint8Array.of(4, 3, 2, 1));
    const ours = await socket.sendRtcp(request, []);
    assert.deepEqual(fromHex((await lib.call('unprotect-rtcp', 7, ours))[0] ?? ''), request);
    const libSsrc = 0x11b5_0001;
    const plain = floorMessage(FLOOR_REQUEST, libSsrc, Uint8Array.of(7, 7, 7, 7));
    const theirs = fromHex((await lib.call('protect-rtcp', 7, 0, plain))[0] ?? '');
    assert.deepEqual(theirs.subarray(-4), mki);
    const sMark = serverHeard.length;
    await socket.sendRaw(theirs, fcsPeer);
    await until(() => serverHeard.length === sMark + 1, 'the server receives libsrtp\'s packet');
    assert.deepEqual(serverHeard[sMark], { ok: true, packet: plain, kfcId: c.keyId, csId: 6 });
    // The client opens libsrtp's too (the same key serves the downlink, §9.4.2).
    const mark = heard.length;
    const down = floorMessage(FLOOR_GRANTED, 0x11b5_0002);
    await socket.sendRaw(fromHex((await lib.call('protect-rtcp', 7, 0, down))[0] ?? ''), socket.local);
    await until(() => heard.length === mark + 1, 'the client receives libsrtp\'s packet');
    const r = heard[mark];
    assert.ok(r?.ok === true);
    assert.deepEqual(r.packet, down);
  });
});
