/**
 * The client SDK's media security end to end on loopback (TS 33.180 §5.7, §7.2-§7.5): a KMS over
 * HTTPS provisions a GMS and four users; the GMS keys a group of three; each member joins the
 * group call (its GMKs from the GMS over SIP) and sends real RTP and RTCP over UDP sockets,
 * SRTP/SRTCP under its own GUK-ID-derived key with the 64-bit MKI GMK-ID || GUK-ID and RCCm3.
 * Every member opens the others' packets. Alice's SEQ crosses 65535 so that her ROC is 1 when a
 * fourth member joins late: RCCm3 gives it the ROC in each packet. The GMS rekeys mid-call: the
 * senders move to the new GMK, a packet still under the old one is accepted until the old GMK is
 * revoked. A private call: a PCK in a MIKEY-SAKKE I_MESSAGE inside a SIP INVITE, both directions
 * of media. Bad input (unknown MKI, flipped tag, replay, too old, truncated, wrong purpose tag,
 * expired and revoked GMK, a changed RCCm3 ROC) is dropped and counted by reason. libsrtp2 opens
 * packets of the call with the derived keys, and our receivers open packets libsrtp protected.
 * A missing libsrtp fails this file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  DropReason,
  GroupCallSession,
  MediaSocket,
  PrivateCallAgent,
  createPrivateCallOffer,
  joinGroupCall,
  userKeysFromStore,
  type EstablishedPrivateCall,
  type MediaReceipt,
} from '../../src/client/index.js';
import { ContentType, createBoundary, createSipRequest, decodeSdpMedia, encodeSdpMedia, headerValue, mikeyPart, multipartBody } from '../../src/formats/sip/index.js';
import { deriveGukId, deriveUserSalt, generateKeyId } from '../../src/crypto/index.js';
import { decodeMki, encodeRtpPacket } from '../../src/formats/srtp/index.js';
import { fromHex } from '../../src/util/index.js';
import { SrtpHarness } from '../interop/srtp-harness.js';
import { gmsWorld, waitForGmk, type GmsWorld, type WorldGms, type WorldMember } from '../helpers/gms-world.js';

const GMS = 'sip:gms@example.org';
const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const CAROL = 'sip:carol@example.org';
const DAVE = 'sip:dave@example.org';
const GROUP = 'sip:fire@example.org';

const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function rtp(seq: number, ssrc: number, payload: Uint8Array): Uint8Array {
  return encodeRtpPacket({
    header: { padding: false, marker: false, payloadType: 8, sequenceNumber: seq & 0xffff, timestamp: (seq * 160) >>> 0, ssrc, csrcs: [], extension: undefined },
    payload,
    padding: new Uint8Array(0),
  });
}

/** An empty RR and an APP packet (PT 204, as MCPTT floor control sends), RFC 3550 §6.4.2, §6.7. */
function rtcp(ssrc: number, body = rnd(8)): Uint8Array {
  const s = [ssrc >>> 24, (ssrc >>> 16) & 0xff, (ssrc >>> 8) & 0xff, ssrc & 0xff];
  return Uint8Array.from([0x80, 0xc9, 0, 1, ...s, 0x80, 0xcc, 0, 4, ...s, 0x4d, 0x43, 0x50, 0x54, ...body]);
}

const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const cat = (...p: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(p.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of p) (out.set(x, at), (at += x.length));
  return out;
};

/** Polls until `pred` holds; rejects (failing the test) if it never does. */
async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 4000; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never happened: ${what}`);
}

interface Party {
  readonly member: WorldMember;
  readonly session: GroupCallSession & { close(): void };
  readonly socket: MediaSocket;
  readonly receipts: MediaReceipt[];
  readonly ssrc: number;
  seq: number;
  /** Every SRTP packet this party sent, in order. */
  readonly sent: Uint8Array[];
}

describe('client media: group call and private call on loopback', () => {
  let world: GmsWorld;
  let gms: WorldGms;
  let lib: SrtpHarness;
  const members = new Map<string, WorldMember>();
  const parties = new Map<string, Party>();
  const party = (uri: string): Party => {
    const p = parties.get(uri);
    assert.ok(p !== undefined, uri);
    return p;
  };
  const others = (uri: string): { address: string; port: number }[] => [...parties.values()].filter((p) => p.member.uri !== uri).map((p) => p.socket.local);
  const ok = (p: Party): Extract<MediaReceipt, { ok: true }>[] => p.receipts.filter((r): r is Extract<MediaReceipt, { ok: true }> => r.ok);
  let firstGmkId = 0;

  async function join(uri: string, firstSeq: number): Promise<Party> {
    const member = members.get(uri);
    assert.ok(member !== undefined);
    const session = joinGroupCall(member.gmc, { groupId: GROUP, userUri: uri });
    const receipts: MediaReceipt[] = [];
    const socket = await MediaSocket.open({ session, onPacket: (r) => receipts.push(r) });
    const p: Party = { member, session, socket, receipts, ssrc: session.newSsrc(), seq: firstSeq, sent: [] };
    parties.set(uri, p);
    return p;
  }

  /** Sends one RTP packet from `from` to every other party; returns its payload. */
  async function speak(from: string): Promise<{ payload: Uint8Array; srtp: Uint8Array }> {
    const p = party(from);
    const payload = rnd(160);
    const srtp = await p.socket.sendRtp(rtp(p.seq, p.ssrc, payload), others(from));
    p.seq = (p.seq + 1) & 0xffff;
    p.sent.push(srtp);
    return { payload, srtp };
  }

  before(async () => {
    lib = SrtpHarness.start();
    world = await gmsWorld({ users: [GMS, ALICE, BOB, CAROL, DAVE], prefix: 'mcsec-media-' });
    gms = await world.startGms(GMS);
    for (const [uri, t] of [[ALICE, 'udp'], [BOB, 'udp'], [CAROL, 'tcp'], [DAVE, 'udp']] as const) members.set(uri, await world.startMember(uri, t, gms));
    const created = await gms.service.createGroup({ groupUri: GROUP, members: [ALICE, BOB, CAROL], text: 'Fire team' });
    firstGmkId = created.report?.gmkId ?? 0;
    for (const uri of [ALICE, BOB, CAROL]) {
      const m = members.get(uri);
      assert.ok(m !== undefined);
      const arrived = waitForGmk(m.gmc, (g) => g.gmkId === firstGmkId);
      await m.gmc.register(600);
      await arrived;
    }
  });

  after(async () => {
    for (const p of parties.values()) {
      p.session.close();
      await p.socket.close();
    }
    await lib.close();
    await world.close();
  });

  test('§7.4.2: three members, real RTP and RTCP over UDP; each opens the others\' packets under the sender\'s own GUK-ID', async () => {
    // Alice starts near the top of the SEQ space so that her ROC changes before the late join.
    await join(ALICE, 65_530);
    await join(BOB, 100);
    await join(CAROL, 7);
    const said = new Map<string, string[]>();
    for (let round = 0; round < 5; round++) {
      for (const uri of [ALICE, BOB, CAROL]) {
        const { payload } = await speak(uri);
        said.set(uri, [...(said.get(uri) ?? []), Buffer.from(payload).toString('hex')]);
      }
    }
    for (const uri of [ALICE, BOB, CAROL]) await until(() => ok(party(uri)).length === 10, `${uri} hears 10 packets`);
    const gmk = members.get(ALICE)?.gmc.activeGmk(GROUP);
    assert.ok(gmk !== undefined && gmk.gmkId === firstGmkId);
    for (const listener of [ALICE, BOB, CAROL]) {
      const heard = ok(party(listener));
      for (const speaker of [ALICE, BOB, CAROL].filter((u) => u !== listener)) {
        const fromSpeaker = heard.filter((r) => r.ssrc === party(speaker).ssrc);
        assert.equal(fromSpeaker.length, 5, `${listener} hears ${speaker}`);
        // The RTP payload is the 160 octets after the 12-octet header.
        assert.deepEqual(fromSpeaker.map((r) => Buffer.from(r.packet.subarray(12)).toString('hex')), said.get(speaker));
        for (const r of fromSpeaker) {
          assert.equal(r.keyId, firstGmkId);
          assert.equal(r.csId, 4, 'CS-ID 4: MCPTT group call (Table E.1.3-1)');
          assert.equal(r.csbId, deriveGukId(firstGmkId, deriveUserSalt(gmk.gmk, speaker)), "CSB-ID = the speaker's GUK-ID");
        }
      }
      assert.equal(party(listener).session.stats.droppedTotal, 0);
    }
    // The MKI on the wire is GMK-ID || GUK-ID (64 bits), then the RCCm3 ROC (4 octets, R = 1).
    const last = party(BOB).sent.at(-1);
    assert.ok(last !== undefined);
    const mki = decodeMki(last.subarray(last.length - 12, last.length - 4));
    assert.deepEqual(mki, { form: 'gmk-guk', gmkId: firstGmkId, gukId: members.get(BOB)?.gmc.activeGmk(GROUP)?.gukId });
    assert.deepEqual([...last.subarray(last.length - 4)], [0, 0, 0, 0], 'ROC 0');
    // RTCP (floor control) over SRTCP with the same key and MKI.
    const app = rtcp(party(CAROL).ssrc);
    await party(CAROL).socket.sendRtcp(app, others(CAROL));
    await until(() => ok(party(ALICE)).some((r) => r.kind === 'rtcp') && ok(party(BOB)).some((r) => r.kind === 'rtcp'), 'RTCP arrives');
    assert.deepEqual(ok(party(BOB)).find((r) => r.kind === 'rtcp')?.packet, app);
  });

  test('§7.5.1 / RFC 4771: alice\'s SEQ wraps (ROC 1), then dave joins late and opens her packets at once from the RCCm3 ROC', async () => {
    for (let i = 0; i < 6; i++) await speak(ALICE); // SEQ 65535, 0, 1, 2, 3, 4
    await until(() => party(BOB).session.rtpState(party(ALICE).ssrc)?.roc === 1, 'bob follows alice to ROC 1');
    assert.equal(party(CAROL).session.rtpState(party(ALICE).ssrc)?.roc, 1);
    // Dave becomes a member, registers, gets the current GMK and joins the call.
    const dave = members.get(DAVE);
    assert.ok(dave !== undefined);
    const arrived = waitForGmk(dave.gmc, (g) => g.gmkId === firstGmkId);
    await gms.service.addMembers(GROUP, [DAVE]);
    await dave.gmc.register(600);
    await arrived;
    const d = await join(DAVE, 40_000);
    // A copy of alice's next packet with the carried ROC changed to 0 first: it enters the GCM
    // IV, so it fails authentication (the NOTE of §7.5.1) and leaves no state behind.
    const p = party(ALICE);
    const payload = rnd(160);
    const srtp = p.session.protectRtp(rtp(p.seq, p.ssrc, payload));
    p.seq++;
    p.sent.push(srtp);
    const forged = srtp.slice();
    forged.set([0, 0, 0, 0], forged.length - 4);
    const dropsBefore = d.session.stats.dropped[DropReason.AUTHENTICATION];
    await p.socket.sendRaw(forged, d.socket.local);
    await until(() => d.session.stats.dropped[DropReason.AUTHENTICATION] === dropsBefore + 1, 'the forged ROC is refused');
    assert.equal(d.session.rtpState(p.ssrc), undefined, 'no state from a refused packet');
    await p.socket.sendRaw(srtp, others(ALICE));
    // The genuine packet, sent to everyone now, and the next ones open.
    await until(() => ok(d).some((r) => r.ssrc === p.ssrc), 'dave opens alice');
    assert.deepEqual(ok(d).find((r) => r.ssrc === p.ssrc)?.packet.subarray(12), payload);
    assert.deepEqual(d.session.rtpState(p.ssrc), { roc: 1, highestSequence: 5 });
    await speak(ALICE);
    await speak(BOB);
    await speak(DAVE);
    await until(() => ok(d).filter((r) => r.ssrc === p.ssrc).length === 2 && ok(d).some((r) => r.ssrc === party(BOB).ssrc), 'dave hears alice and bob');
    await until(() => ok(party(CAROL)).some((r) => r.ssrc === d.ssrc), 'carol hears dave');
  });

  test('§5.7 rekey mid-call: senders move to the new GMK; a packet under the old one still opens until it is revoked', async () => {
    const held = party(BOB).session.protectRtp(rtp(party(BOB).seq, party(BOB).ssrc, rnd(160))); // made before the rekey
    party(BOB).seq++;
    const report = await gms.service.rekey(GROUP, { reason: 'mid-call test' });
    assert.equal(report.delivered, 4);
    const fresh = report.gmkId;
    assert.notEqual(fresh, firstGmkId);
    for (const uri of [ALICE, BOB, CAROL, DAVE]) assert.equal(party(uri).session.sendingGmkId, fresh, `${uri} sends under the new GMK`);
    const marks = new Map([...parties].map(([uri, p]) => [uri, ok(p).length]));
    for (const uri of [ALICE, BOB, CAROL, DAVE]) await speak(uri);
    for (const uri of [ALICE, BOB, CAROL, DAVE]) await until(() => ok(party(uri)).length === (marks.get(uri) ?? 0) + 3, `${uri} hears 3 new packets`);
    for (const uri of [ALICE, BOB, CAROL, DAVE]) {
      const fresh3 = ok(party(uri)).slice(marks.get(uri));
      assert.deepEqual(fresh3.map((r) => r.keyId), [fresh, fresh, fresh], `${uri} opened them under the new GMK`);
    }
    // Same SSRC, SEQ and ROC go on across the key change: alice is still at ROC 1.
    assert.equal(party(CAROL).session.rtpState(party(ALICE).ssrc)?.roc, 1);
    // The old GMK is still valid: bob's packet made before the rekey opens.
    const before = ok(party(CAROL)).length;
    await party(BOB).socket.sendRaw(held, party(CAROL).socket.local);
    await until(() => ok(party(CAROL)).length === before + 1, 'the old-GMK packet opens');
    assert.equal(ok(party(CAROL)).at(-1)?.keyId, firstGmkId);
    // Revoked (§E.6.9), the old GMK opens nothing more: the held-back packet, which dave never
    // received, is refused for its key before anything else.
    await gms.service.revoke(GROUP, firstGmkId);
    const bobOld = members.get(BOB)?.gmc.gmks().find((g) => g.gmkId === firstGmkId);
    assert.ok(bobOld !== undefined && bobOld.revoked);
    assert.deepEqual(held.subarray(held.length - 12, held.length - 4), cat(u32(firstGmkId), u32(bobOld.gukId)), 'the held packet names the old GMK');
    const revokedBefore = party(DAVE).session.stats.dropped[DropReason.REVOKED_KEY];
    await party(BOB).socket.sendRaw(held, party(DAVE).socket.local);
    await until(() => party(DAVE).session.stats.dropped[DropReason.REVOKED_KEY] === revokedBefore + 1, 'revoked GMK refused');
    assert.equal(party(ALICE).session.sendingGmkId, fresh);
  });

  test('bad input is dropped with a typed reason and counted; the call goes on', async () => {
    const a = party(ALICE);
    const c = party(CAROL);
    const send = (b: Uint8Array): Promise<void> => a.socket.sendRaw(b, c.socket.local);
    const { srtp } = await speak(ALICE);
    await until(() => ok(c).some((r) => r.packet.length > 0 && r.ssrc === a.ssrc && r.kind === 'rtp'), 'carol opens alice');
    const before = c.session.stats;
    const n = srtp.length;
    const mkiAt = n - 12;
    // Unknown MKI: a GMK-ID (purpose tag 0) no one holds.
    const unknown = srtp.slice();
    unknown.set(u32(0x0abc_def0), mkiAt);
    // Wrong purpose tag: the GMK-ID with a PCK's tag (1).
    const wrongTag = srtp.slice();
    wrongTag[mkiAt] = ((wrongTag[mkiAt] ?? 0) & 0x0f) | 0x10;
    // Flipped GCM tag bit (the tag is the 16 octets before the MKI) of a packet not yet received
    // (a received one would be refused as a replay first).
    const next = a.session.protectRtp(rtp(a.seq++, a.ssrc, rnd(160)));
    const flipped = next.slice();
    flipped[mkiAt - 1] = (flipped[mkiAt - 1] ?? 0) ^ 0x01;
    const sends: [Uint8Array, DropReason][] = [
      [unknown, DropReason.UNKNOWN_KEY],
      [wrongTag, DropReason.WRONG_PURPOSE],
      [flipped, DropReason.AUTHENTICATION],
      [srtp, DropReason.REPLAYED],
      [srtp.subarray(0, 10), DropReason.TRUNCATED],
      [srtp.subarray(0, 30), DropReason.TRUNCATED],
    ];
    for (const [bytes] of sends) await send(bytes);
    const want = (r: DropReason): number => sends.filter(([, x]) => x === r).length;
    await until(() => c.session.stats.droppedTotal === before.droppedTotal + sends.length, 'every bad packet is counted');
    for (const r of [DropReason.UNKNOWN_KEY, DropReason.WRONG_PURPOSE, DropReason.AUTHENTICATION, DropReason.REPLAYED, DropReason.TRUNCATED]) {
      assert.equal(c.session.stats.dropped[r] - before.dropped[r], want(r), r);
    }
    const reasons = c.receipts.slice(-sends.length).map((r) => (r.ok ? 'ok' : r.reason));
    assert.deepEqual(reasons, sends.map(([, r]) => r));
    // The refused flipped copy left no state: the genuine packet opens.
    await send(next);
    await until(() => ok(c).at(-1)?.ssrc === a.ssrc && c.receipts.at(-1)?.ok === true, 'the genuine packet after its forgery opens');
    // Too old: a packet 70 behind the highest index (the window is 64).
    const oldOnes: Uint8Array[] = [];
    for (let i = 0; i < 71; i++) {
      oldOnes.push(a.session.protectRtp(rtp(a.seq, a.ssrc, rnd(20))));
      a.seq++;
    }
    const first = oldOnes.shift();
    assert.ok(first !== undefined);
    for (const b of oldOnes) await send(b);
    await until(() => c.session.rtpState(a.ssrc)?.highestSequence === (a.seq - 1) % 0x1_0000, 'carol is at alice\'s newest');
    await send(first);
    await until(() => c.session.stats.dropped[DropReason.TOO_OLD] === before.dropped[DropReason.TOO_OLD] + 1, 'too old');
    // Expired (§E.6.10): a receiver whose clock is past the GMKs' expiry (lifetime 3600 s).
    const future = new GroupCallSession({ groupId: GROUP, userUri: CAROL, keys: c.member.gmc, now: () => new Date(Date.now() + 2 * 3600_000) });
    const r = future.receive(a.session.protectRtp(rtp(a.seq++, a.ssrc, rnd(20))));
    assert.equal(r.ok, false);
    assert.equal(r.ok ? '' : r.reason, DropReason.EXPIRED_KEY);
    assert.equal(future.stats.dropped[DropReason.EXPIRED_KEY], 1);
    // Nothing escaped as an exception, and the call goes on.
    assert.deepEqual(c.socket.errors, { listener: 0, socket: 0, unattached: 0 });
    const { payload } = await speak(ALICE);
    await until(() => ok(c).at(-1)?.packet.subarray(12).length === 160 && Buffer.from(ok(c).at(-1)?.packet.subarray(12) ?? []).equals(Buffer.from(payload)), 'the call goes on');
  });

  test('libsrtp2 cross-check: libsrtp opens the group call packets with the derived keys, and our receivers open libsrtp\'s', async () => {
    const a = party(ALICE);
    const aliceGmks = members.get(ALICE)?.gmc.gmks() ?? [];
    assert.equal(aliceGmks.length, 2);
    // Alice's two sender keys (old and new GMK), derived as our sender did; libsrtp picks by MKI.
    const keyOf = (gmkId: number) => {
      const g = aliceGmks.find((x) => x.gmkId === gmkId);
      assert.ok(g !== undefined);
      const s = new GroupCallSession({ groupId: GROUP, userUri: ALICE, keys: { gmks: () => [g], activeGmk: () => g } });
      return s.currentSenderKey();
    };
    const fresh = a.session.sendingGmkId ?? 0;
    const keys = [keyOf(firstGmkId), keyOf(fresh)];
    await lib.session(1, keys.map((k) => ({ masterKey: k.masterKey, masterSalt: k.masterSalt, mki: k.mki })));
    // Every packet alice sent, in order (ROC 0 → 1, old GMK → new), minus the RCCm3 ROC trailer
    // (libsrtp has no RCC): libsrtp opens each one to the RTP alice protected.
    let opened = 0;
    for (const srtp of a.sent) {
      const rtpOut = fromHex((await lib.call('unprotect', 1, srtp.subarray(0, srtp.length - 4)))[0] ?? '');
      assert.equal(rtpOut.length, srtp.length - 4 - 16 - 8);
      assert.deepEqual(rtpOut.subarray(0, 12), srtp.subarray(0, 12));
      opened++;
    }
    assert.ok(opened >= 15, `libsrtp opened ${opened} packets`);
    assert.equal((await lib.call('roc', 1, a.ssrc))[0], '1', "libsrtp's ROC for alice is 1 too");
    // libsrtp protects under alice's current key (a new SSRC); with the RCCm3 ROC appended, bob's
    // receiver opens it over UDP. And SRTCP the same way (no ROC in SRTCP).
    const b = party(BOB);
    const ssrc = 0x5eed_0001;
    const plain = rtp(1000, ssrc, rnd(160));
    const srtp = fromHex((await lib.call('protect', 1, 1, plain))[0] ?? '');
    const plainRtcp = rtcp(ssrc);
    const srtcp = fromHex((await lib.call('protect-rtcp', 1, 1, plainRtcp))[0] ?? '');
    const mark = ok(b).length;
    await a.socket.sendRaw(cat(srtp, u32(0)), b.socket.local);
    await a.socket.sendRaw(srtcp, b.socket.local);
    await until(() => ok(b).length === mark + 2, 'bob opens both libsrtp packets');
    const [r1, r2] = ok(b).slice(mark);
    assert.deepEqual(r1?.packet, plain);
    assert.equal(r1?.keyId, fresh);
    assert.deepEqual(r2?.packet, plainRtcp);
    // Our SRTCP under the group key opens in libsrtp too.
    const report = rtcp(a.ssrc);
    const ours = await a.socket.sendRtcp(report, []);
    assert.deepEqual(fromHex((await lib.call('unprotect-rtcp', 1, ours))[0] ?? ''), report);
  });

  test('§7.2 / §7.4.1 private call: a PCK in an INVITE (SDP + application/mikey), both directions of SRTP over UDP, cross-checked with libsrtp', async () => {
    const aliceM = members.get(ALICE);
    const bobM = members.get(BOB);
    assert.ok(aliceM !== undefined && bobM !== undefined);
    const bobHeard: MediaReceipt[] = [];
    const aliceHeard: MediaReceipt[] = [];
    const bobSocket = await MediaSocket.open({ onPacket: (r) => bobHeard.push(r) });
    const bobAgent = new PrivateCallAgent({
      user: userKeysFromStore(bobM.keys, world.kmsUri, BOB),
      endpoint: bobM.endpoint,
      answer: () => ({ media: 'audio', address: '127.0.0.1', port: bobSocket.local.port, payloadType: 8 }),
    });
    const aliceAgent = new PrivateCallAgent({ user: userKeysFromStore(aliceM.keys, world.kmsUri, ALICE), endpoint: aliceM.endpoint });
    const incoming = new Promise<EstablishedPrivateCall>((resolve) => bobAgent.once('call', resolve));
    const invites: { contentType: string | undefined; body: string }[] = [];
    const seeInvite = (req: { method: string; headers: readonly { name: string; value: string }[]; body: Uint8Array }): void => {
      if (req.method === 'INVITE') invites.push({ contentType: headerValue(req, 'Content-Type'), body: new TextDecoder().decode(req.body) });
    };
    bobM.endpoint.on('request', seeInvite);
    const aliceSocket = await MediaSocket.open({ onPacket: (r) => aliceHeard.push(r) });
    const bobSip = bobM.endpoint.address('udp');
    assert.ok(bobSip !== undefined);
    const call = await aliceAgent.call(BOB, { transport: 'udp', host: '127.0.0.1', port: bobSip.port }, { media: 'audio', address: '127.0.0.1', port: aliceSocket.local.port, payloadType: 8 });
    const answered = await incoming;
    bobM.endpoint.off('request', seeInvite);
    // §7.2.2 step 1: the SDP offer itself carries the I_MESSAGE (RFC 4567 a=key-mgmt:mikey).
    assert.equal(invites[0]?.contentType, ContentType.SDP);
    assert.match(invites[0]?.body ?? '', /\r\na=key-mgmt:mikey [A-Za-z0-9+/]+=*\r\nm=audio \d+ RTP\/SAVP 8\r\n/);
    try {
      aliceSocket.attach(call.session);
      bobSocket.attach(answered.session);
      assert.equal(answered.peerUri, ALICE);
      assert.equal(answered.session.pckId, call.session.pckId);
      assert.equal(call.session.pckId >>> 28, 1, 'PCK purpose tag (Annex G)');
      assert.equal(call.remote.port, bobSocket.local.port);
      assert.equal(answered.remote.port, aliceSocket.local.port);
      // Media both ways.
      const aSsrc = call.session.newSsrc();
      const bSsrc = answered.session.newSsrc();
      const aPayload = rnd(160);
      const bPayload = rnd(160);
      const aSrtp = await aliceSocket.sendRtp(rtp(1, aSsrc, aPayload), call.remote);
      const bSrtp = await bobSocket.sendRtp(rtp(9, bSsrc, bPayload), answered.remote);
      await until(() => bobHeard.some((r) => r.ok) && aliceHeard.some((r) => r.ok), 'both hear each other');
      const atBob = bobHeard.find((r) => r.ok);
      const atAlice = aliceHeard.find((r) => r.ok);
      assert.ok(atBob?.ok === true && atAlice?.ok === true);
      assert.deepEqual(atBob.packet.subarray(12), aPayload);
      assert.deepEqual(atAlice.packet.subarray(12), bPayload);
      assert.deepEqual([atBob.csId, atAlice.csId], [0, 1], "CS-ID 0 for the initiator's stream, 1 for the receiver's (MCPTT)");
      assert.equal(atBob.keyId, call.session.pckId);
      assert.deepEqual(aSrtp.subarray(aSrtp.length - 4), u32(call.session.pckId), 'MKI = PCK-ID (32 bits)');
      // SRTCP with the same key.
      const app = rtcp(aSsrc);
      await aliceSocket.sendRtcp(app, call.remote);
      await until(() => bobHeard.some((r) => r.ok && r.kind === 'rtcp'), 'bob opens the SRTCP');
      // libsrtp: both streams' keys; it opens alice's and bob's packets; bob opens libsrtp's.
      const aKey = call.session.currentSenderKey();
      const bKey = answered.session.currentSenderKey();
      assert.notDeepEqual(aKey.masterKey, bKey.masterKey);
      await lib.session(2, [{ masterKey: aKey.masterKey, masterSalt: aKey.masterSalt, mki: aKey.mki }]);
      await lib.session(3, [{ masterKey: bKey.masterKey, masterSalt: bKey.masterSalt, mki: bKey.mki }]);
      assert.deepEqual(fromHex((await lib.call('unprotect', 2, aSrtp))[0] ?? '').subarray(12), aPayload);
      assert.deepEqual(fromHex((await lib.call('unprotect', 3, bSrtp))[0] ?? '').subarray(12), bPayload);
      const libPlain = rtp(77, 0x0bad_cafe, rnd(100));
      const libSrtp = fromHex((await lib.call('protect', 2, 0, libPlain))[0] ?? '');
      await aliceSocket.sendRaw(libSrtp, call.remote);
      await until(() => bobHeard.some((r) => r.ok && r.ssrc === 0x0bad_cafe), 'bob opens libsrtp\'s packet');
      const fromLib = bobHeard.find((r) => r.ok && r.ssrc === 0x0bad_cafe);
      assert.ok(fromLib?.ok === true);
      assert.deepEqual(fromLib.packet, libPlain);
      // A group call packet on the private call's socket: its 64-bit MKI does not parse as the
      // 32-bit PCK-ID layout, and nothing opens with the wrong key.
      const groupPacket = party(ALICE).sent.at(-1);
      assert.ok(groupPacket !== undefined);
      await aliceSocket.sendRaw(groupPacket, call.remote);
      await until(() => answered.session.stats.droppedTotal === 1, 'a group packet is dropped on the private call');
      assert.equal(answered.session.stats.received.rtp, 2);
    } finally {
      call.session.close();
      answered.session.close();
      aliceAgent.close();
      bobAgent.close();
      await aliceSocket.close();
      await bobSocket.close();
    }
  });

  test('RFC 4567 §3.1: the SDP offer carries the I_MESSAGE as a=key-mgmt:mikey; a bad one is refused', () => {
    const imessage = rnd(300);
    const sdp = encodeSdpMedia({ media: 'audio', address: '127.0.0.1', port: 4000, payloadType: 8, keyMgmt: imessage }, 7);
    assert.match(new TextDecoder().decode(sdp), /\r\na=key-mgmt:mikey [A-Za-z0-9+/]+=*\r\n/);
    assert.deepEqual(decodeSdpMedia(sdp), { media: 'audio', address: '127.0.0.1', port: 4000, payloadType: 8, keyMgmt: imessage });
    const broken = new TextEncoder().encode(new TextDecoder().decode(sdp).replace(/key-mgmt:mikey \S+/, 'key-mgmt:mikey @@@'));
    assert.throws(() => decodeSdpMedia(broken), { code: 'ERR_BAD_VALUE', field: 'sdp.a.key-mgmt' });
    assert.throws(() => decodeSdpMedia(new TextEncoder().encode('v=0\r\nc=IN IP4 127.0.0.1\r\n')), { code: 'ERR_BAD_VALUE', field: 'sdp.m' });
  });

  test('refused private calls: an I_MESSAGE whose initiator is not the From (403), a declined call (603)', async () => {
    const [aliceM, bobM, daveM] = [members.get(ALICE), members.get(BOB), members.get(DAVE)];
    assert.ok(aliceM !== undefined && bobM !== undefined && daveM !== undefined);
    const bobAgent = new PrivateCallAgent({
      user: userKeysFromStore(bobM.keys, world.kmsUri, BOB),
      endpoint: bobM.endpoint,
      answer: ({ callerUri }) => (callerUri === DAVE ? undefined : { media: 'audio', address: '127.0.0.1', port: 9, payloadType: 8 }),
    });
    const refusals: string[] = [];
    bobAgent.on('refused', (e) => refusals.push(`${e.code} ${e.field}`));
    const bobSip = bobM.endpoint.address('udp');
    const daveSip = daveM.endpoint.address('udp');
    assert.ok(bobSip !== undefined && daveSip !== undefined);
    const toBob = { transport: 'udp', host: '127.0.0.1', port: bobSip.port } as const;
    try {
      // Dave's PCK, signed by dave, in an INVITE whose From says alice.
      const offer = createPrivateCallOffer({ user: userKeysFromStore(daveM.keys, world.kmsUri, DAVE), calleeUri: BOB });
      const sdp = { headers: [{ name: 'Content-Type', value: ContentType.SDP }], body: encodeSdpMedia({ media: 'audio', address: '127.0.0.1', port: 9, payloadType: 8 }, 1) };
      const invite = createSipRequest({
        method: 'INVITE',
        uri: BOB,
        from: { uri: ALICE },
        to: { uri: BOB },
        via: { transport: 'udp', host: '127.0.0.1', port: daveSip.port, rport: true },
        body: multipartBody([sdp, mikeyPart(offer.imessage, 'base64')], createBoundary(rnd)),
      });
      const res = await daveM.endpoint.request(invite, toBob);
      assert.equal(res.status, 403);
      assert.match(headerValue(res, 'Warning') ?? '', /ERR_FORBIDDEN mikey\.IDRi/);
      // Dave calling as himself: bob's application declines him.
      const daveAgent = new PrivateCallAgent({ user: userKeysFromStore(daveM.keys, world.kmsUri, DAVE), endpoint: daveM.endpoint });
      try {
        await assert.rejects(daveAgent.call(BOB, toBob, { media: 'audio', address: '127.0.0.1', port: 9, payloadType: 8 }), { code: 'ERR_FORBIDDEN', field: 'privateCall.invite', rule: /answered 603/ });
      } finally {
        daveAgent.close();
      }
      assert.deepEqual(refusals, ['ERR_FORBIDDEN mikey.IDRi', 'ERR_FORBIDDEN privateCall.answer']);
    } finally {
      bobAgent.close();
    }
  });
});

test('receive is total: random bytes and single-bit changes of genuine SRTP / SRTCP give a drop receipt, never an exception, and no state', () => {
  const gmkId = generateKeyId('GMK');
  const g = { gmkId, gukId: 0, gmk: rnd(16), rand: rnd(16), groupIds: [GROUP], activationTime: new Date(0), expiryTime: undefined, revoked: false, securityGateway: false, text: '', gmsUri: GMS, receivedAt: new Date() };
  const keys = { gmks: () => [g], activeGmk: () => g };
  const tx = new GroupCallSession({ groupId: GROUP, userUri: ALICE, keys });
  const rx = new GroupCallSession({ groupId: GROUP, userUri: BOB, keys });
  const ssrc = tx.newSsrc();
  let seq = 0;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = rx.receive(bytes);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && Object.values(DropReason).includes(r.reason) && r.reason !== DropReason.INTERNAL, !r.ok ? `${r.reason} ${r.error.message}` : '');
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.boolean(), fc.nat(), (isRtcp, at) => {
      const genuine = isRtcp ? tx.protectRtcp(rtcp(ssrc)) : tx.protectRtp(rtp(seq++, ssrc, rnd(40)));
      const bit = at % (genuine.length * 8);
      const bad = genuine.slice();
      bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      const r = rx.receive(bad);
      assert.equal(r.ok, false, `bit ${bit} of ${genuine.length}`);
      assert.notEqual(r.ok ? '' : r.reason, DropReason.INTERNAL);
      assert.equal(rx.receive(genuine).ok, true, 'the genuine packet still opens');
    }),
    { numRuns: 300 },
  );
  assert.equal(rx.stats.dropped[DropReason.INTERNAL], 0);
});
