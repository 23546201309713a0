/**
 * The `mcsec` command (commander). Each sub-command parses its arguments, calls the library and
 * prints; errors print as one line with code, field and clause and exit non-zero.
 */
import { existsSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, ErrorCode } from '../errors/index.js';
import { decodeKeyMaterial } from '../formats/key-material/index.js';
import {
  MemoryReplayCache,
  createIMessage,
  decodeCreateCase,
  decodeMikey,
  decodeMikeyInput,
  decodeOpenCase,
  describeMikey,
  describeMikeyText,
  describeOpenedKeyParameters,
  mikeyMessageTime,
  openIMessage,
} from '../formats/mikey/index.js';
import { McsecError } from '../errors/index.js';
import { SakkePublicKey, deriveUid, keyPeriodNoAt, prepareRsk as prepareRecipient } from '../crypto/index.js';
import { checkKeyMaterial } from '../client/index.js';
import { runCryptoDemo } from '../demo/crypto-round-trip.js';
import { runSystemDemo } from '../demo/system-demo.js';
import { toBase64, toHex, utf8 } from '../util/index.js';
import { printLine, reportError } from './output.js';
import { readBytes, readText } from './input.js';
import { registerDecodeKms } from './decode-kms.js';
import { registerDecodeMore } from './decode-more.js';
import { registerKmsCommands } from './kms-commands.js';
import { registerIdmsCommands } from './idms-commands.js';
import { registerMcxCommands } from './mcx-commands.js';
import { registerGmsCommands } from './gms-commands.js';

function usage(field: string, rule: string): ConfigError {
  return new ConfigError(ErrorCode.USAGE, { field, rule });
}

function integerOption(value: string | undefined, field: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw usage(field, 'must be a non-negative integer');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw usage(field, 'is too large');
  return n;
}

/** Builds the command tree. */
export function buildProgram(): Command {
  const program = new Command('mcsec')
    .description('3GPP TS 33.180 Mission Critical security: keys, MIKEY-SAKKE, KMS and MC security functions')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(`mcsec: ERR_USAGE ${s.replace(/^error: /, '')}`),
    });

  program
    .command('uid')
    .description('print the 32-octet MIKEY-SAKKE UID of TS 33.180 §F.2.1 as hex')
    .requiredOption('--uri <uri>', 'the user identifier (P1), e.g. sip:alice@example.org')
    .requiredOption('--kms-uri <uri>', 'the KMS identifier (P2)')
    .requiredOption('--period <seconds>', 'UserKeyPeriod (P3)')
    .requiredOption('--offset <seconds>', 'UserKeyOffset (P4)')
    .option('--period-no <n>', 'the key period number (P5)')
    .option('--time <iso8601>', 'compute the key period number at this time instead')
    .action((o: { uri: string; kmsUri: string; period: string; offset: string; periodNo?: string; time?: string }) => {
      const userKeyPeriod = integerOption(o.period, '--period');
      const userKeyOffset = integerOption(o.offset, '--offset');
      if ((o.periodNo === undefined) === (o.time === undefined)) {
        throw usage('--period-no', 'give exactly one of --period-no and --time');
      }
      let keyPeriodNo: number;
      if (o.time !== undefined) {
        const t = new Date(o.time);
        if (Number.isNaN(t.getTime())) throw usage('--time', 'must be an ISO-8601 time');
        keyPeriodNo = keyPeriodNoAt(t, userKeyPeriod, userKeyOffset);
      } else {
        keyPeriodNo = integerOption(o.periodNo, '--period-no');
      }
      printLine(toHex(deriveUid({ uri: o.uri, kmsUri: o.kmsUri, userKeyPeriod, userKeyOffset, keyPeriodNo })));
    });

  const keys = program.command('keys').description('check key material');
  keys
    .command('check')
    .description('check KMS-issued keys (RSK, SSK/PVT) against the KMS public keys and the UID')
    .argument('<file>', 'key-material JSON, or - for standard input')
    .action((file: string) => {
      const result = checkKeyMaterial(decodeKeyMaterial(readText(file)));
      printLine(JSON.stringify(result));
      if (result.rsk === 'invalid' || result.signingPair === 'invalid') process.exitCode = 1;
    });

  const decode = program.command('decode').description('decode wire formats for debugging');
  decode
    .command('mikey')
    .description('decode a MIKEY(-SAKKE) message: every payload with its offset and fields')
    .argument('<input>', 'a file (binary, base64 or "mikey <base64>"), - for standard input, or the base64 itself')
    .option('--json', 'print one JSON object')
    .action((input: string, o: { json?: boolean }) => {
      const raw = input === '-' || existsSync(input) ? readBytes(input) : utf8(input);
      const m = decodeMikey(decodeMikeyInput(raw));
      if (o.json === true) printLine(JSON.stringify(describeMikey(m)));
      else for (const line of describeMikeyText(m)) printLine(line);
    });
  registerDecodeKms(decode);
  registerDecodeMore(decode);
  registerKmsCommands(program);
  registerIdmsCommands(program);
  registerMcxCommands(program);
  registerGmsCommands(program);

  const mikey = program.command('mikey').description('MIKEY-SAKKE I_MESSAGEs (TS 33.180 Annex E) with keys from a case file');
  mikey
    .command('open')
    .description('open an I_MESSAGE with the receiver keys of a case file and explain the outcome')
    .requiredOption('--case <file>', 'the case JSON (see docs/mikey.md)')
    .action(async (o: { case: string }) => {
      try {
        const c = decodeOpenCase(readText(o.case));
        const kms = new SakkePublicKey(c.kms.pubEncKey);
        const periods = { userKeyPeriod: c.kms.userKeyPeriod, userKeyOffset: c.kms.userKeyOffset };
        const at = c.at === 'message' ? mikeyMessageTime(c.imessage) : c.at;
        if (at === undefined) throw new ConfigError(ErrorCode.USAGE, { field: 'case.at', rule: 'the message has no timestamp; give a time' });
        const opened = await openIMessage(c.imessage, {
          uri: c.receiver.uri,
          kmsUri: c.kms.uri,
          ...periods,
          recipientFor: (n) => {
            const uid = deriveUid({ uri: c.receiver.uri, kmsUri: c.kms.uri, ...periods, keyPeriodNo: n });
            return prepareRecipient(kms, uid, c.receiver.userDecryptKey);
          },
          trustedKms: (uri) => (uri === c.kms.uri ? { kpak: c.kms.pubAuthKey, ...periods } : undefined),
          replayCache: new MemoryReplayCache(),
          now: () => at,
        });
        const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
        printLine(
          JSON.stringify({
            keyType: opened.keyType,
            key: toHex(opened.key),
            keyId: hex8(opened.keyId),
            rand: toHex(opened.rand),
            ...(opened.gukId !== undefined ? { gukId: hex8(opened.gukId) } : {}),
            initiatorUri: opened.initiatorUri ?? null,
            initiatorUid: toHex(opened.initiatorUid),
            responderUri: opened.responderUri,
            keyPeriodNo: opened.keyPeriodNo,
            time: opened.time.toISOString(),
            format: opened.format,
            signature: 'valid',
            keyParameters: opened.keyParameters === undefined ? null : describeOpenedKeyParameters(opened.keyParameters),
          }),
        );
      } catch (err) {
        if (!(err instanceof McsecError)) throw err;
        printLine(JSON.stringify({ error: { code: err.code, field: err.field, rule: err.rule, message: err.message } }));
        process.exitCode = 1;
      }
    });
  mikey
    .command('create')
    .description('create a signed I_MESSAGE from the initiator keys of a case file (prints "mikey <base64>")')
    .requiredOption('--case <file>', 'the case JSON (see docs/mikey.md)')
    .action((o: { case: string }) => {
      const c = decodeCreateCase(readText(o.case));
      const kms = new SakkePublicKey(c.kms.pubEncKey);
      const periods = { userKeyPeriod: c.kms.userKeyPeriod, userKeyOffset: c.kms.userKeyOffset };
      const bytes = createIMessage({
        keyType: c.keyType,
        key: c.key,
        keyId: c.keyId,
        initiator: { uri: c.initiator.uri, kmsUri: c.kms.uri, ...periods, kpak: c.kms.pubAuthKey, ssk: c.initiator.ssk, pvt: c.initiator.pvt },
        responder: { uri: c.responder.uri, kmsUri: c.kms.uri, ...periods, kms },
        time: c.time ?? new Date(),
        hideIdentities: c.hideIdentities,
        ...(c.keyParameters !== undefined ? { keyParameters: c.keyParameters } : {}),
      });
      printLine(`mikey ${toBase64(bytes)}`);
    });

  program
    .command('demo')
    .description('run the demo: an IdMS and a KMS on HTTPS, Alice and Bob log in and fetch keys, a private call key in MIKEY-SAKKE, an SRTP packet')
    .option('--crypto-only', 'only the in-memory crypto round trip (no servers)')
    .action(async (o: { cryptoOnly?: boolean }) => {
      let n = 0;
      const log = (step: string, clause: string, detail?: string): void => {
        n += 1;
        printLine(`${String(n).padStart(2)}. ${step}  [${clause}]`);
        if (detail !== undefined) printLine(`      ${detail}`);
      };
      printLine('Part 1: the identity-based crypto alone (RFC 6507, RFC 6508, TS 33.180 Annex F)');
      let ok = runCryptoDemo(log);
      if (o.cryptoOnly !== true) {
        printLine('Part 2: one MC system on loopback (IdMS, KMS, two MC clients)');
        ok = (await runSystemDemo(log)) && ok;
      }
      printLine(ok ? 'demo: all checks passed' : 'demo: FAILED');
      if (!ok) process.exitCode = 1;
    });
  return program;
}

/** Runs the CLI on argv. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length <= 2) {
    reportError(usage('command', 'a command is required (see mcsec --help)'));
    return;
  }
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode !== 0) process.exitCode = 2;
      return;
    }
    reportError(err);
  }
}

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

await main(process.argv);
