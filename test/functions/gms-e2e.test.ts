/**
 * The GMS end to end on loopback (TS 33.180 §5.7, §7.3, CR §11.1.2.2): a KMS (the library's KMS
 * pieces in-process, over HTTPS) provisions two GMSs and four users through the client SDK's
 * KmsClient; members register with GMS A over SIP UDP and TCP; GMS A creates a group and
 * distributes its GMK; every member opens its I_MESSAGE with its own RSK and holds the same GMK
 * under its own GUK-ID. Then: removing a member rekeys and the removed member does not get the
 * new GMK; several active GMKs, the one activated last wins whatever the order they arrive in;
 * tampered, replayed, foreign and conflicting I_MESSAGEs are refused by the member with nothing
 * stored; a member registering late gets the current GMKs; a partner GMS (GMS B) gets the GMK as
 * a member and redistributes it, signed by itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deriveGukId, deriveUserSalt, generateKeyId, SakkePublicKey } from '../../src/crypto/index.js';
import { SakkeBatchEncapsulator } from '../../src/crypto/sakke-batch.js';
import {
  contactDestination,
  createGmkIMessages,
  gmkRand,
  signingIdentity,
  warningCode,
  type GmkDelivery,
  type GmkSender,
} from '../../src/functions/gms/index.js';
import { ContentType, createSipRequest } from '../../src/formats/sip/index.js';
import type { KyselyGmsStore } from '../../src/store/index.js';
import { listenSip, type SipTransport } from '../../src/transport/sip/index.js';
import { gmsWorld, waitForGmk, type GmsWorld, type WorldGms, type WorldMember } from '../helpers/gms-world.js';

const KMS = 'kms.example.org';
const GMS_A = 'sip:gms-a@example.org';
const GMS_B = 'sip:gms-b@partner.example.org';
const ALICE = 'sip:alice@example.org';
const BOB = 'sip:bob@example.org';
const DAVE = 'sip:dave@example.org';
const CAROL = 'sip:carol@partner.example.org';
const GROUP = 'sip:fire@example.org';
const GROUP_VIDEO = 'sip:fire-video@example.org';
const SPAN = 'sip:spanning@example.org';

/** Records every message the GMS hands to SIP (to replay and tamper with them). */
class Recorder implements GmkSender {
  readonly sent: GmkDelivery[] = [];
  readonly #inner: GmkSender;
  constructor(inner: GmkSender) {
    this.#inner = inner;
  }
  send(d: GmkDelivery): ReturnType<GmkSender['send']> {
    this.sent.push(d);
    return this.#inner.send(d);
  }
}

interface Gms extends WorldGms {
  readonly recorder: Recorder;
}

type Member = WorldMember;

const waitFor = waitForGmk;

describe('GMS end to end on loopback', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  let world: GmsWorld;
  let gmsA: Gms;
  let gmsB: Gms;
  const members = new Map<string, Member>();
  const member = (uri: string): Member => {
    const m = members.get(uri);
    assert.ok(m !== undefined, uri);
    return m;
  };

  async function startGms(uri: string): Promise<Gms> {
    let recorder: Recorder | undefined;
    const gms = await world.startGms(uri, { wrapSender: (sip) => (recorder = new Recorder(sip)) });
    assert.ok(recorder !== undefined);
    return { ...gms, recorder };
  }

  async function startMember(uri: string, transport: SipTransport, gms: Gms, gmsUri: string): Promise<Member> {
    const m = await world.startMember(uri, transport, gms, gmsUri);
    members.set(uri, m);
    return m;
  }

  before(async () => {
    // The KMS (over HTTPS) provisions the GMSs and the users through the client SDK's KmsClient.
    world = await gmsWorld({ users: [GMS_A, GMS_B, ALICE, BOB, DAVE, CAROL], kmsUri: KMS, userKeyPeriod: 2_419_200, prefix: 'mcsec-gms-e2e-' });
    gmsA = await startGms(GMS_A);
    gmsB = await startGms(GMS_B);
    await startMember(ALICE, 'udp', gmsA, GMS_A);
    await startMember(BOB, 'tcp', gmsA, GMS_A);
    await startMember(DAVE, 'udp', gmsA, GMS_A);
    await startMember(CAROL, 'tcp', gmsB, GMS_B);
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await world.close();
  });

  test('a REGISTER from a URI that is no member of any group is refused (404)', async () => {
    await assert.rejects(member(ALICE).gmc.register(), { code: 'ERR_NOT_FOUND', field: 'gmc.register' });
  });

  test('§5.7: members register over UDP and TCP; one GMK reaches all, the same GMK under each member\'s own GUK-ID', async () => {
    // The group exists before anyone registers: its first GMK waits for the members' contacts.
    const created = await gmsA.service.createGroup({ groupUri: GROUP, members: [ALICE, BOB, DAVE], alsoGroupIds: [GROUP_VIDEO], text: 'Fire team' });
    assert.equal(created.created, true);
    assert.deepEqual({ ...created.report, gmkId: 0 }, { groupUri: GROUP, gmkId: 0, members: 3, delivered: 0, refused: 0, failed: 0, pending: 3 });
    const first = created.report?.gmkId ?? 0;
    for (const uri of [ALICE, BOB, DAVE]) {
      const m = member(uri);
      const arrived = waitFor(m.gmc, (g) => g.gmkId === first);
      const r = await m.gmc.register(600);
      assert.equal(r.expires, 600);
      await arrived; // sent by the GMS right after the 200 to the REGISTER
    }
    const held = [ALICE, BOB, DAVE].map((uri) => member(uri).gmc.activeGmk(GROUP));
    const [a, b, d] = held;
    assert.ok(a !== undefined && b !== undefined && d !== undefined);
    assert.equal(a.gmkId, first);
    assert.ok(first >>> 28 === 0, 'purpose tag 0 (Annex G)');
    assert.deepEqual(b.gmk, a.gmk);
    assert.deepEqual(d.gmk, a.gmk);
    // §7.4.2: one RAND per GMK in every member's message, the random one the GMS kept (0008)
    const kept = (await gmsA.store.listGmks(GROUP)).find((g) => g.gmkId === first)?.rand;
    assert.ok(kept !== undefined);
    for (const g of held) assert.deepEqual(g?.rand, kept);
    assert.notDeepEqual(kept, gmkRand(a.gmk, first), 'drawn at random, not the fallback derivation');
    assert.equal(new Set(held.map((g) => g?.gukId)).size, 3, 'a GUK-ID per member');
    for (const [i, uri] of [ALICE, BOB, DAVE].entries()) assert.equal(held[i]?.gukId, deriveGukId(first, deriveUserSalt(a.gmk, uri)));
    assert.deepEqual(a.groupIds, [GROUP, GROUP_VIDEO]);
    assert.equal(a.text, 'Fire team');
    assert.equal(a.gmsUri, GMS_A);
    assert.equal(a.securityGateway, false);
    assert.deepEqual(member(ALICE).gmc.activeGmk(GROUP_VIDEO)?.gmkId, first, '§5.7: the GMK serves every MC group ID it names');
    // The GMS writes the delivery once the member's 200 is in, just after the member stored the GMK.
    const states = async (): Promise<unknown> => (await gmsA.store.listDeliveries(GROUP, first)).map((x) => [x.memberUri, x.state, x.status, x.code]);
    for (let i = 0; i < 100 && JSON.stringify(await states()).includes('pending'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await states(), [[ALICE, 'delivered', 200, undefined], [BOB, 'delivered', 200, undefined], [DAVE, 'delivered', 200, undefined]]);
    // A rekey now reaches the registered members at once, over UDP (alice, dave) and TCP (bob).
    const again = await gmsA.service.rekey(GROUP);
    assert.deepEqual({ ...again, gmkId: 0 }, { groupUri: GROUP, gmkId: 0, members: 3, delivered: 3, refused: 0, failed: 0, pending: 0 });
    for (const uri of [ALICE, BOB, DAVE]) assert.equal(member(uri).gmc.activeGmk(GROUP)?.gmkId, again.gmkId);
  });

  test('§5.7.3: removing a member rekeys the group; the removed member does not get the new GMK', async () => {
    const before = (await gmsA.service.gmksOf(GROUP)).inUse;
    const sentBefore = gmsA.recorder.sent.length;
    const r = await gmsA.service.removeMembers(GROUP, [DAVE]);
    assert.deepEqual(r.removed, [DAVE]);
    const report = r.report;
    assert.ok(report !== undefined && before !== undefined);
    assert.notEqual(report.gmkId, before.gmkId);
    assert.equal(report.members, 2);
    assert.equal(report.delivered, 2);
    for (const uri of [ALICE, BOB]) assert.equal(member(uri).gmc.activeGmk(GROUP)?.gmkId, report.gmkId);
    assert.equal(member(DAVE).gmc.gmks().some((g) => g.gmkId === report.gmkId), false, 'dave holds no message of the new GMK');
    assert.equal(member(DAVE).gmc.activeGmk(GROUP)?.gmkId, before.gmkId);
    assert.ok(gmsA.recorder.sent.slice(sentBefore).every((d) => d.memberUri !== DAVE), 'no I_MESSAGE was even made for dave');
    assert.ok((await gmsA.store.listDeliveries(GROUP, report.gmkId)).every((d) => d.memberUri !== DAVE));
  });

  test('§5.7: several active GMKs, the one with the most recent activation time is used, whatever order they came in', async () => {
    const alice = member(ALICE).gmc;
    const inUse = alice.activeGmk(GROUP);
    assert.ok(inUse !== undefined);
    // Received last, but activated a minute before the GMK in use: it does not take over.
    const earlier = await gmsA.service.rekey(GROUP, { activationAt: new Date(inUse.activationTime.getTime() - 60_000) });
    assert.equal(alice.gmks().filter((g) => g.groupIds.includes(GROUP) && !g.revoked && g.activationTime <= new Date()).length >= 2, true);
    assert.equal(alice.activeGmk(GROUP)?.gmkId, inUse.gmkId);
    // Activating in an hour: the GMK in use stays until then, then the new one wins.
    const later = await gmsA.service.rekey(GROUP, { activationAt: new Date(Date.now() + 3_600_000) });
    assert.equal(alice.activeGmk(GROUP)?.gmkId, inUse.gmkId);
    assert.equal(alice.activeGmk(GROUP, new Date(Date.now() + 3_601_000))?.gmkId, later.gmkId);
    assert.equal(member(BOB).gmc.activeGmk(GROUP, new Date(Date.now() + 3_601_000))?.gmkId, later.gmkId);
    const gms = await gmsA.service.gmksOf(GROUP);
    assert.equal(gms.inUse?.gmkId, inUse.gmkId, 'the GMS selects the same one');
    assert.ok(gms.current.some((g) => g.gmkId === earlier.gmkId) && gms.current.some((g) => g.gmkId === later.gmkId));
    // A revoked GMK is never used (§5.7.2, §E.6.9): revoking the one in use falls back to the next.
    await gmsA.service.revoke(GROUP, inUse.gmkId);
    assert.equal(alice.gmks().find((g) => g.gmkId === inUse.gmkId)?.revoked, true);
    assert.notEqual(alice.activeGmk(GROUP)?.gmkId, inUse.gmkId);
  });

  test('§5.7.2 step 2: tampered, replayed, foreign and conflicting I_MESSAGEs are refused by the member; nothing is stored', async () => {
    const alice = member(ALICE);
    const last = [...gmsA.recorder.sent].reverse().find((d) => d.memberUri === ALICE);
    assert.ok(last !== undefined);
    const snapshot = JSON.stringify(alice.gmc.gmks());
    const mallory = await listenSip({ udp: {} });
    cleanups.push(() => mallory.close());
    const contact = alice.gmc.contact;
    const port = mallory.address('udp')?.port ?? 0;
    const sendRaw = async (body: Uint8Array): Promise<{ status: number; code: string | undefined }> => {
      const req = createSipRequest({
        method: 'MESSAGE',
        uri: contact,
        from: { uri: GMS_A },
        to: { uri: ALICE },
        via: { transport: 'udp', host: '127.0.0.1', port },
        body: { contentType: ContentType.MIKEY, body },
      });
      const res = await mallory.request(req, contactDestination(contact));
      return { status: res.status, code: warningCode(res) };
    };
    // One flipped octet in the SAKKE payload, in the signature, in the timestamp.
    for (const at of [200, last.imessage.length - 100, 19]) {
      const bad = last.imessage.slice();
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      const r = await sendRaw(bad);
      assert.equal(r.status, 403, `octet ${at}`);
      assert.equal(r.code, 'ERR_SIGNATURE', `octet ${at}`);
      await assert.rejects(alice.gmc.receive(bad), { code: 'ERR_SIGNATURE' });
    }
    // The very message again, in a new SIP transaction: a replay (RFC 3830 §5.4).
    assert.deepEqual(await sendRaw(last.imessage), { status: 403, code: 'ERR_REPLAY' });
    // A GMK signed by another GMS (GMS B) for alice's group: not the group's Server URI.
    const gmk = new Uint8Array(randomBytes(16));
    const build = async (signerUri: string, store: KyselyGmsStore, gmkId: number): Promise<Uint8Array> => {
      const { certificate, keySet } = await signingIdentity(store, signerUri, KMS, new Date());
      const [m] = createGmkIMessages({
        gmk, gmkId, time: new Date(),
        signer: { uri: signerUri, kmsUri: KMS, userKeyPeriod: certificate.userKeyPeriod, userKeyOffset: certificate.userKeyOffset, kpak: certificate.pubAuthKey, ssk: keySet.ssk, pvt: keySet.pvt },
        recipients: [{ uri: ALICE, kmsUri: KMS, userKeyPeriod: certificate.userKeyPeriod, userKeyOffset: certificate.userKeyOffset }],
        encapsulatorFor: () => new SakkeBatchEncapsulator(new SakkePublicKey(certificate.pubEncKey), { pointWindow: 6, gtWindow: 6 }),
        keyParameters: { mcGroupIds: [GROUP] },
      });
      assert.ok(m !== undefined);
      return m;
    };
    assert.deepEqual(await sendRaw(await build(GMS_B, gmsB.store, generateKeyId('GMK'))), { status: 403, code: 'ERR_FORBIDDEN' });
    // GMS A, but a GMK-ID alice already holds for another GMK (§5.7.2: "not a duplicate").
    const held = alice.gmc.activeGmk(GROUP);
    assert.ok(held !== undefined);
    assert.deepEqual(await sendRaw(await build(GMS_A, gmsA.store, held.gmkId)), { status: 403, code: 'ERR_BAD_VALUE' });
    assert.equal(JSON.stringify(alice.gmc.gmks()), snapshot, 'nothing stored');
  });

  test('§5.7.3: a member added later gets the current GMKs, once it registers', async () => {
    const dave = member(DAVE);
    await dave.gmc.unregister();
    const r = await gmsA.service.addMembers(GROUP, [DAVE]);
    assert.deepEqual(r.added, [DAVE]);
    assert.equal(r.report?.pending, 1);
    const current = (await gmsA.service.gmksOf(GROUP)).current.map((g) => g.gmkId);
    const arrived = Promise.all(current.map((id) => waitFor(dave.gmc, (g) => g.gmkId === id)));
    await dave.gmc.register(600);
    await arrived;
    assert.equal(dave.gmc.activeGmk(GROUP)?.gmkId, (await gmsA.service.gmksOf(GROUP)).inUse?.gmkId);
  });

  test('CR §11.1.2.2: the primary GMS sends the GMK to a partner GMS as a member; the partner redistributes it signed by itself', async () => {
    // The partner GMS's contact at the primary, as its subscription would leave it (TS 23.280 §10.2.7).
    await gmsA.service.createGroup({ groupUri: SPAN, members: [ALICE, GMS_B] });
    await gmsB.service.createGroup({ groupUri: SPAN, members: [CAROL], primaryGmsUri: GMS_A });
    await gmsA.service.register(GMS_B, `sip:gms-b@127.0.0.1:${gmsB.endpoint.address('udp')?.port ?? 0}`, 600);
    const carol = member(CAROL);
    await carol.gmc.register(600);
    const arrived = waitFor(carol.gmc, (g) => g.groupIds.includes(SPAN));
    const report = await gmsA.service.rekey(SPAN);
    assert.deepEqual([report.members, report.delivered], [2, 2], 'alice and GMS B');
    assert.equal(member(ALICE).gmc.activeGmk(SPAN)?.gmkId, report.gmkId);
    const got = await arrived;
    assert.equal(got.gmkId, report.gmkId, 'the same GMK-ID across the systems');
    assert.equal(got.gmsUri, GMS_B, 'signed by the partner GMS');
    assert.equal(got.gukId, deriveGukId(report.gmkId, deriveUserSalt(got.gmk, CAROL)));
    const stored = (await gmsB.store.listGmks(SPAN)).find((g) => g.gmkId === report.gmkId);
    assert.equal(stored?.origin, GMS_A);
    assert.deepEqual(stored?.gmk, got.gmk);
    // the partner keeps and sends the primary's RAND: both systems' members derive the same keys (§7.4.2)
    const primaryRand = (await gmsA.store.listGmks(SPAN)).find((g) => g.gmkId === report.gmkId)?.rand;
    assert.ok(primaryRand !== undefined);
    assert.deepEqual(stored?.rand, primaryRand);
    assert.deepEqual(got.rand, primaryRand);
    assert.deepEqual(member(ALICE).gmc.activeGmk(SPAN)?.rand, primaryRand);
    await assert.rejects(gmsB.service.rekey(SPAN), { code: 'ERR_FORBIDDEN', field: 'gms.group.primaryGmsUri' });
  });
});
