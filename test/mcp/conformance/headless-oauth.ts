import {
  DpopSession,
  type OAuthClientInformationContext,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from '@modelcontextprotocol/client';

/**
 * An OAuth client for authorization servers that approve without a person (the conformance
 * suite's): "sending the user" to the authorization URL is a fetch that does not follow the
 * redirect, whose Location carries the code back. Credentials are kept per authorization
 * server (issuer), as the SDK asks, so a server that moves to another one registers afresh.
 * With `dpop`, tokens are sender-constrained (DPoP, RFC 9449) with one key for the client's life.
 */
export class HeadlessOAuthProvider implements OAuthClientProvider {
  readonly redirectUrl = 'http://localhost:3000/callback';
  readonly clientMetadataUrl: string | undefined;
  readonly #metadata: OAuthClientMetadata;
  readonly #preregistered: StoredOAuthClientInformation | undefined;
  readonly #clients = new Map<string, StoredOAuthClientInformation>();
  readonly #tokens = new Map<string, StoredOAuthTokens>();
  #latestTokens: StoredOAuthTokens | undefined;
  #latestClient: StoredOAuthClientInformation | undefined;
  #verifier: string | undefined;
  #callback: URLSearchParams | undefined;
  #dpop: Promise<DpopSession> | undefined;
  readonly #useDpop: boolean;

  constructor(options: {
    clientName: string;
    clientMetadataUrl?: string;
    preregistered?: StoredOAuthClientInformation;
    dpop?: boolean;
  }) {
    this.#useDpop = options.dpop ?? false;
    this.clientMetadataUrl = options.clientMetadataUrl;
    this.#preregistered = options.preregistered;
    this.#metadata = {
      client_name: options.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: options.preregistered?.client_secret
        ? 'client_secret_basic'
        : 'none',
    };
  }

  get clientMetadata(): OAuthClientMetadata {
    return this.#metadata;
  }

  clientInformation(ctx?: OAuthClientInformationContext): StoredOAuthClientInformation | undefined {
    if (this.#preregistered) return this.#preregistered;
    return ctx ? this.#clients.get(ctx.issuer) : this.#latestClient;
  }

  saveClientInformation(info: StoredOAuthClientInformation, ctx?: OAuthClientInformationContext) {
    if (ctx) this.#clients.set(ctx.issuer, info);
    this.#latestClient = info;
  }

  tokens(ctx?: OAuthClientInformationContext): StoredOAuthTokens | undefined {
    return ctx ? this.#tokens.get(ctx.issuer) : this.#latestTokens;
  }

  saveTokens(tokens: StoredOAuthTokens, ctx?: OAuthClientInformationContext): void {
    if (ctx) this.#tokens.set(ctx.issuer, tokens);
    this.#latestTokens = tokens;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    const response = await fetch(authorizationUrl, { redirect: 'manual' });
    const location = response.headers.get('location');
    if (!location) {
      throw new Error(`the authorization server did not redirect back (HTTP ${response.status})`);
    }
    this.#callback = new URL(location).searchParams;
  }

  dpop(): Promise<DpopSession> | undefined {
    if (!this.#useDpop) return undefined;
    this.#dpop ??= DpopSession.create();
    return this.#dpop;
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.#verifier) throw new Error('no PKCE code verifier was saved');
    return this.#verifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') {
      this.#tokens.clear();
      this.#latestTokens = undefined;
    }
    if (scope === 'all' || scope === 'client') {
      this.#clients.clear();
      this.#latestClient = undefined;
    }
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
  }

  /** The redirect's query once "the user" authorized (for McpConnection's authorizationCallback). */
  async authorizationCallback(): Promise<URLSearchParams> {
    const callback = this.#callback;
    this.#callback = undefined;
    if (!callback) throw new Error('authorization was not started');
    return callback;
  }
}
