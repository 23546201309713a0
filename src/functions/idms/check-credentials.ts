/**
 * The username/password check of the IdMS login (TS 33.180 §5.1.2.3.2 step 3b: "UE sends the
 * username & password … to the IdMS"; the username is the MC ID, §5.1.2.1). One answer for every
 * failure (unknown MC ID, wrong password, disabled user), and the same scrypt work for each, so
 * neither the answer nor its time tells which.
 */
import type { IdmsUser, KyselyIdmsStore } from '../../store/index.js';
import { MAX_PASSWORD_LENGTH, verifyPassword } from './password.js';

const MAX_USERNAME = 2048;

/** The user when the credentials are right and the user may log in; undefined otherwise. */
export async function checkCredentials(store: KyselyIdmsStore, username: string, password: string): Promise<IdmsUser | undefined> {
  const plausible = username.length > 0 && username.length <= MAX_USERNAME && password.length > 0 && password.length <= MAX_PASSWORD_LENGTH;
  const user = plausible ? await store.getUser(username) : undefined;
  const ok = await verifyPassword(password, user?.passwordHash);
  return ok && user !== undefined && !user.disabled ? user : undefined;
}
