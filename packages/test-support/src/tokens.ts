import { generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import {
  createStaticKeyResolver,
  createTokenVerifier,
  type Role,
  type TokenVerifier,
} from '@herald/runtime/http';

export const TEST_ISSUER = 'herald-auth';
export const TEST_AUDIENCE = 'herald';

export interface TestTokenClaims {
  sub?: string;
  role?: Role;
  emailVerified?: boolean;
  /** seconds from now; negative for an already expired token */
  expiresInSeconds?: number;
}

/**
 * Stands in for auth in other services' tests: an ES256 key pair, tokens
 * signed the way auth signs them, a verifier for it, and (optionally) a real
 * JWKS endpoint serving its public key.
 */
export class TestTokenIssuer {
  readonly kid = `test-${randomUUID().slice(0, 8)}`;
  private readonly privateKey: KeyObject;
  readonly publicJwk: JsonWebKey & { kid: string; use: string; alg: string };
  private jwksServer?: Server;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: this.kid, use: 'sig', alg: 'ES256' };
  }

  sign(claims: TestTokenClaims = {}): string {
    return jwt.sign(
      { role: claims.role ?? 'user', email_verified: claims.emailVerified ?? true },
      this.privateKey,
      {
        algorithm: 'ES256',
        keyid: this.kid,
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
        subject: claims.sub ?? randomUUID(),
        expiresIn: claims.expiresInSeconds ?? 900,
      },
    );
  }

  /** A verifier that trusts this issuer's key, without HTTP. */
  verifier(): TokenVerifier {
    return createTokenVerifier({
      keys: createStaticKeyResolver({ [this.kid]: this.publicJwk }),
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
    });
  }

  /** Serves `{ keys: [publicJwk] }` on a free local port; returns the JWKS URL. */
  async serveJwks(): Promise<string> {
    this.jwksServer = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [this.publicJwk] }));
    });
    await new Promise<void>((resolve) => this.jwksServer!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async close(): Promise<void> {
    const server = this.jwksServer;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
