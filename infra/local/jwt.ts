import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';

/**
 * Local tokens: HS256 signed with LOCAL_JWT_SECRET. In the cloud API Gateway's JWT
 * authorizer validates the operator's tokens instead; either way the handlers
 * only read the claims.
 */
export const localIssuer = 'local-runtime';
export const localAudience = 'additional-info-api';
export const secretFile = '.local/jwt-secret';

const key = (secret: string) => new TextEncoder().encode(secret);

/**
 * LOCAL_JWT_SECRET when set; otherwise the secret saved by an earlier start, or a new
 * random one saved for `npm run token` (kept, so tokens outlive a restart).
 */
export function resolveJwtSecret(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOCAL_JWT_SECRET) return env.LOCAL_JWT_SECRET;
  if (existsSync(secretFile)) return readFileSync(secretFile, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(secretFile), { recursive: true });
  writeFileSync(secretFile, secret, { mode: 0o600 });
  return secret;
}

/** The secret a running `npm start` uses: LOCAL_JWT_SECRET, else the one it saved. */
export function readJwtSecret(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOCAL_JWT_SECRET) return env.LOCAL_JWT_SECRET;
  try {
    return readFileSync(secretFile, 'utf8').trim();
  } catch {
    throw new Error(
      `No secret: set LOCAL_JWT_SECRET or run npm start first (it writes ${secretFile}).`,
    );
  }
}

export type LocalClaims = Record<string, string>;

export async function signLocalToken(
  secret: string,
  claims: LocalClaims,
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(localIssuer)
    .setAudience(localAudience)
    .setSubject(claims.customerId ?? claims.resellerId ?? claims.role ?? 'local')
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key(secret));
}

/** The claims of a valid token, or undefined: what API Gateway's authorizer decides. */
export async function verifyLocalToken(
  secret: string,
  authorization: string | undefined,
): Promise<Record<string, unknown> | undefined> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  try {
    const { payload } = await jwtVerify(match[1], key(secret), {
      algorithms: ['HS256'],
      issuer: localIssuer,
      audience: localAudience,
    });
    return payload as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
