/**
 * The demo of `npm start` / `mcsec demo`, as far as the product goes today: a KMS key set, keys
 * for Alice and Bob, Alice encapsulates a key to Bob and signs, Bob validates his keys,
 * decapsulates and verifies. Each step names its clause. Later issues extend it to whole systems.
 */
import { randomBytes } from 'node:crypto';
import {
  EccsiVerifier,
  SakkePublicKey,
  deriveUid,
  encapsulateSsv,
  extractRsk,
  generateEccsiKmsKey,
  generateEccsiPair,
  generateKeyId,
  generateSakkeKmsKey,
  keyPeriodNoAt,
  prepareRsk,
  signEccsi,
  validateEccsiPair,
} from '../crypto/index.js';
import { concatBytes, equalBytes, toHex, u32be } from '../util/index.js';

/** One printed step. */
export type DemoLog = (step: string, clause: string, detail?: string) => void;

const short = (b: Uint8Array): string => `${toHex(b.subarray(0, 8))}… (${b.length} octets)`;

/** Runs the round trip, printing each step; returns true when every check passed. */
export function runCryptoDemo(log: DemoLog, now = new Date()): boolean {
  const kmsUri = 'kms.example.org';
  const userKeyPeriod = 2_592_000;
  const userKeyOffset = 0;
  const keyPeriodNo = keyPeriodNoAt(now, userKeyPeriod, userKeyOffset);

  const sakkeKms = generateSakkeKmsKey();
  const eccsiKms = generateEccsiKmsKey();
  log('KMS makes its master keys: SAKKE z, Z_T (PubEncKey) and ECCSI KSAK, KPAK (PubAuthKey)', 'TS 33.180 §5.3, RFC 6508 §2.2, RFC 6507 §4.2', `Z_T ${short(sakkeKms.zT)}, KPAK ${short(eccsiKms.kpak)}`);

  const uidOf = (uri: string): Uint8Array => deriveUid({ uri, kmsUri, userKeyPeriod, userKeyOffset, keyPeriodNo });
  const alice = uidOf('sip:alice@example.org');
  const bob = uidOf('sip:bob@example.org');
  log(`UIDs for key period ${keyPeriodNo}`, 'TS 33.180 §F.2.1', `alice ${toHex(alice)}\n      bob   ${toHex(bob)}`);

  const aliceSigning = generateEccsiPair(eccsiKms, alice);
  const bobRsk = extractRsk(sakkeKms.z, bob);
  log('KMS issues Alice an SSK/PVT and Bob an RSK', 'TS 33.180 Annex D.3.3, RFC 6507 §5.1.1, RFC 6508 §6.1.1', `PVT ${short(aliceSigning.pvt)} (public); the SSK and RSK are secret and not shown`);

  validateEccsiPair(eccsiKms.kpak, alice, aliceSigning);
  log('Alice validates her SSK/PVT: KPAK = [SSK]G - [HS]PVT', 'RFC 6507 §5.1.2');
  const kms = new SakkePublicKey(sakkeKms.zT);
  const bobKeys = prepareRsk(kms, bob, bobRsk);
  log('Bob validates his RSK: <[b]P + Z, RSK> = g, RSK of order q', 'RFC 6508 §6.1.2');

  const pck = new Uint8Array(randomBytes(16));
  const pckId = generateKeyId('PCK');
  const encapsulated = encapsulateSsv(kms, bob, pck);
  log(`Alice makes a PCK (PCK-ID 0x${pckId.toString(16).padStart(8, '0')}, purpose tag 1) and encapsulates it to Bob`, 'TS 33.180 §7.2, Annex G, RFC 6508 §6.2.1', `R || H ${short(encapsulated)}`);

  const signed = concatBytes(encapsulated, u32be(pckId));
  const signature = signEccsi(signed, { ...aliceSigning, kpak: eccsiKms.kpak, id: alice });
  log('Alice signs the message with ECCSI', 'RFC 6507 §5.2.1', `signature r || s || PVT ${short(signature)}`);

  new EccsiVerifier().verify(signed, signature, eccsiKms.kpak, alice);
  log("Bob verifies Alice's signature", 'RFC 6507 §5.2.2');
  const received = bobKeys.decapsulate(encapsulated);
  const ok = equalBytes(received, pck);
  log(ok ? 'Bob decapsulates the PCK: it matches what Alice sent' : 'Bob decapsulated a different PCK', 'RFC 6508 §6.2.2');
  return ok;
}
