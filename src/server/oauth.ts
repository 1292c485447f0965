import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { TokenClaims } from '../policy/authorizer.ts';
import { type ApiScope, apiScopes } from './api-keys.ts';

export interface OAuthOptions {
  /** The authorization server that issues tokens for this server (its `iss`). */
  issuer: string;
  /** This server's resource identifier: tokens must be issued for it (`aud`). */
  audience: string;
  /** Where the issuer's keys are; discovered from its metadata when not given. */
  jwksUrl?: string;
}

/** A caller known by a verified token. */
export interface TokenCaller {
  subject: string;
  scopes: ApiScope[];
  /** What policies see of the token (`principal.claims`). */
  claims: TokenClaims;
}

/**
 * OAuth 2.1 resource-server mode: bearer JWTs are verified against the issuer's keys (JWKS),
 * its issuer, this server's audience (a token minted for another resource is refused: no
 * token passthrough) and their lifetime. Scopes come from the `scope` claim (space-separated,
 * `agentd:` prefixes allowed: `agentd:runs`).
 */
export class OAuthVerifier {
  readonly options: OAuthOptions;
  #keys: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(options: OAuthOptions) {
    this.options = options;
  }

  /** The keys' location: given, or read from the issuer's metadata (RFC 8414 / OIDC). */
  async #jwks(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.#keys) return this.#keys;
    let url = this.options.jwksUrl;
    if (!url) {
      const base = this.options.issuer.replace(/\/$/, '');
      for (const path of [
        '/.well-known/oauth-authorization-server',
        '/.well-known/openid-configuration',
      ]) {
        try {
          const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
          if (!response.ok) continue;
          const metadata = (await response.json()) as { jwks_uri?: string; issuer?: string };
          if (metadata.jwks_uri) {
            url = metadata.jwks_uri;
            break;
          }
        } catch {
          // try the next location
        }
      }
      if (!url) {
        throw new AgentdError(
          'config_invalid',
          `--oauth-issuer ${this.options.issuer}: its metadata names no jwks_uri (give it with --oauth-jwks)`,
        );
      }
    }
    this.#keys = createRemoteJWKSet(new URL(url));
    return this.#keys;
  }

  /** The caller a token stands for, or why it is refused (one line). */
  async verify(token: string): Promise<TokenCaller | { error: string }> {
    try {
      const { payload } = await jwtVerify(token, await this.#jwks(), {
        issuer: this.options.issuer,
        audience: this.options.audience,
      });
      if (!payload.sub) return { error: 'the token has no subject (sub)' };
      const granted = String(payload.scope ?? '')
        .split(/\s+/)
        .map((s) => s.replace(/^agentd:/, ''))
        .filter((s): s is ApiScope => (apiScopes as readonly string[]).includes(s));
      return { subject: payload.sub, scopes: [...new Set(granted)], claims: claimsOf(payload) };
    } catch (error) {
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        return {
          error:
            error.claim === 'aud'
              ? `the token was issued for another resource (aud), not ${this.options.audience}`
              : `the token's ${error.claim} claim is not acceptable: ${error.reason}`,
        };
      }
      if (error instanceof joseErrors.JWTExpired) return { error: 'the token has expired' };
      if (error instanceof AgentdError) throw error;
      return { error: `the token does not verify: ${errorMessage(error)}` };
    }
  }

  /** RFC 9728 Protected Resource Metadata for this server. */
  metadata(): Record<string, unknown> {
    return {
      resource: this.options.audience,
      authorization_servers: [this.options.issuer],
      scopes_supported: apiScopes.map((s) => `agentd:${s}`),
      bearer_methods_supported: ['header'],
    };
  }
}

/** The claims policies may use, typed as the policy schema declares them. */
function claimsOf(payload: JWTPayload): TokenClaims {
  const strings = (value: unknown): string[] | undefined =>
    Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  const groups = strings(payload.groups);
  return {
    sub: payload.sub ?? '',
    iss: payload.iss ?? '',
    scope: String(payload.scope ?? '')
      .split(/\s+/)
      .filter(Boolean),
    ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
    ...(groups ? { groups } : {}),
  };
}
