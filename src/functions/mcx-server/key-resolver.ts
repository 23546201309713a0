/**
 * The XML Protection Key by its XPK-ID (TS 33.180 §9.3.3): "For connections between the client
 * and the MC Domain, the XPK shall be the ... CSK. The XPK-ID shall be the CSK-ID. For
 * connections between servers ... the XPK shall be the ... SPK. The XPK-ID shall be the SPK-ID".
 * The MuSiK is resolved too: it is the DPPK of multicast MCData signalling (§8.5, §9.2.2).
 *
 * The purpose tag of the ID says where to look (Annex G); what is found must be usable now:
 * an unknown ID, a CSK of another user than the one the caller names, or a key type the caller
 * does not accept is PolicyError ERR_UNKNOWN_KEY; a key past its expiry (§E.6.10, or its
 * registration's end) or before its activation (§E.6.4) is ERR_EXPIRED.
 *
 * Integration point with XML protection (§9.3, formats/xmlenc): its resolver is synchronous, so
 * `snapshot` loads the keys a message may name (the CSKs of the user it comes from or goes to, the
 * SPKs of a partner, the MuSiKs) and returns that view; protectXml / unprotectXml then check
 * purpose and validity. The XML keys are derived by deriveXmlKey (§F.1.4, `xmlKeysOf`).
 */
import { decodeKeyId, deriveXmlKey, type KeyType } from '../../crypto/index.js';
import { ErrorCode, PolicyError } from '../../errors/index.js';
import { MemoryXpkResolver } from '../../formats/xmlenc/index.js';
import type { McxStore } from '../../store/mcx-records.js';

/** The key types an XPK-ID may name here. */
export type XpkKeyType = 'CSK' | 'SPK' | 'MuSiK';

/** A resolved XPK. */
export interface ResolvedXpk {
  readonly xpkId: number;
  readonly keyType: XpkKeyType;
  readonly xpk: Uint8Array;
  /** For a CSK: the MC service user ID it belongs to. */
  readonly mcServiceUserId: string | undefined;
  /** For an SPK: the partner it is shared with. */
  readonly partner: string | undefined;
}

/** What the caller expects of the key. */
export interface XpkExpectation {
  /** Key types accepted (default CSK, SPK, MuSiK). */
  readonly accept?: readonly XpkKeyType[];
  /** For a CSK: the user the message comes from or goes to; another user's CSK is refused. */
  readonly userUri?: string;
}

/** Finds XPKs by ID, checking type, owner and validity (async: the store answers). */
export interface XpkLookup {
  resolve(xpkId: number, expect?: XpkExpectation): Promise<ResolvedXpk>;
}

const unknown = (rule: string): PolicyError => new PolicyError(ErrorCode.UNKNOWN_KEY, { field: 'xpkId', rule, clause: 'TS 33.180 §9.3.3' });

/** Checks a key's validity window at `now`. */
function checkWindow(activatesAt: number | undefined, expiresAt: number | undefined, now: number, what: string): void {
  if (expiresAt !== undefined && expiresAt <= now) {
    throw new PolicyError(ErrorCode.EXPIRED, { field: 'xpkId', rule: `names a ${what} past its expiry`, clause: 'TS 33.180 §E.6.10, §9.2.1.2' });
  }
  if (activatesAt !== undefined && activatesAt > now) {
    throw new PolicyError(ErrorCode.EXPIRED, { field: 'xpkId', rule: `names a ${what} not active yet`, clause: 'TS 33.180 §E.6.4' });
  }
}

/** XPKs from the MCX server's store: CSKs, SPKs and MuSiKs. */
export class McxKeyResolver implements XpkLookup {
  readonly #store: McxStore;
  readonly #now: () => Date;

  constructor(store: McxStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  async resolve(xpkId: number, expect: XpkExpectation = {}): Promise<ResolvedXpk> {
    const type: KeyType = decodeKeyId(xpkId, 'xpkId').keyType;
    const accept: readonly string[] = expect.accept ?? ['CSK', 'SPK', 'MuSiK'];
    if (!accept.includes(type)) throw unknown(`names a ${type}, not a key accepted here (${accept.join(', ')})`);
    const now = this.#now().getTime();
    switch (type) {
      case 'CSK': {
        const c = await this.#store.getCsk(xpkId);
        if (c === undefined || (expect.userUri !== undefined && c.userUri !== expect.userUri)) throw unknown('names no CSK held for this user');
        checkWindow(c.activatesAt, c.expiresAt, now, 'CSK');
        return Object.freeze({ xpkId, keyType: 'CSK' as const, xpk: c.csk, mcServiceUserId: c.userUri, partner: undefined });
      }
      case 'SPK': {
        const s = await this.#store.getSpk(xpkId);
        if (s === undefined) throw unknown('names no provisioned SPK');
        checkWindow(undefined, s.expiresAt, now, 'SPK');
        return Object.freeze({ xpkId, keyType: 'SPK' as const, xpk: s.spk, mcServiceUserId: undefined, partner: s.partner });
      }
      case 'MuSiK': {
        const m = await this.#store.getMusik(xpkId);
        if (m === undefined) throw unknown('names no MuSiK of this server');
        checkWindow(undefined, m.expiresAt, now, 'MuSiK');
        return Object.freeze({ xpkId, keyType: 'MuSiK' as const, xpk: m.musik, mcServiceUserId: undefined, partner: undefined });
      }
      default:
        throw unknown(`names a ${type}, which is not an XPK (§9.3.3)`);
    }
  }

  /**
   * The XPKs a message to or from `userUri` (its CSKs, of one client when `clientId` is given), or from `partner` (its SPKs; all SPKs
   * when `partner` is undefined and `spks` is set), may name, plus the MuSiKs when asked, as a
   * synchronous view (formats/xmlenc XpkResolver) for protectXml / unprotectXml.
   */
  async snapshot(o: { readonly userUri?: string; readonly clientId?: string; readonly partner?: string; readonly spks?: boolean; readonly musiks?: boolean }): Promise<MemoryXpkResolver> {
    const at = (t: number | undefined): Date | undefined => (t === undefined ? undefined : new Date(t));
    const view = new MemoryXpkResolver();
    if (o.userUri !== undefined) {
      for (const c of await this.#store.listCsks(o.userUri)) if (o.clientId === undefined || c.clientId === o.clientId) view.set(c.cskId, { key: c.csk, purpose: 'CSK', notBefore: at(c.activatesAt), notAfter: at(c.expiresAt) });
    }
    if (o.partner !== undefined || o.spks === true) {
      for (const s of await this.#store.listSpks(o.partner)) view.set(s.spkId, { key: s.spk, purpose: 'SPK', notAfter: at(s.expiresAt) });
    }
    if (o.musiks === true) {
      for (const m of await this.#store.listMusiks()) view.set(m.musikId, { key: m.musik, purpose: 'MuSiK', notAfter: at(m.expiresAt) });
    }
    return view;
  }
}

/** The XML confidentiality and integrity keys of a resolved XPK for an MC service user ID (§F.1.4). */
export function xmlKeysOf(x: ResolvedXpk, mcServiceUserId: string): { readonly confidentiality: Uint8Array; readonly integrity: Uint8Array } {
  return Object.freeze({
    confidentiality: deriveXmlKey(x.xpk, 'confidentiality', mcServiceUserId, x.xpkId),
    integrity: deriveXmlKey(x.xpk, 'integrity', mcServiceUserId, x.xpkId),
  });
}
