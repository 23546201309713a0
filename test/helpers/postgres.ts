// Whether the PostgreSQL server at DATABASE_URL answers: tests skip (saying why) only when it does not.
import pg from 'pg';

const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Why PostgreSQL cannot be used, or false when a server answered (then failures are failures). */
export async function postgresUnreachable(url: string, what: string, attempts = 3): Promise<string | false> {
  // A loaded 2-core machine can take seconds to accept a connection: try a few times, patiently.
  for (let i = 1; i < attempts; i++) {
    if ((await probe(url, what)) === false) return false;
  }
  return probe(url, what);
}

async function probe(url: string, what: string): Promise<string | false> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return false;
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
    const message = err instanceof Error ? err.message : String(err);
    if (NETWORK_ERRORS.has(code) || /timeout|terminated/i.test(message)) {
      const where = new URL(url);
      if (where.password !== '') where.password = '***';
      return `PostgreSQL unreachable at ${where.toString()} (${code || message}): ${what} did not run; set DATABASE_URL to a reachable server`;
    }
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

