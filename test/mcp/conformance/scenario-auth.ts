import {
  ClientCredentialsProvider,
  CrossAppAccessProvider,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  PrivateKeyJwtProvider,
  requestJwtAuthorizationGrant,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import type { HttpServerConfig } from '../../../src/tools/mcp/server-config.ts';
import { HeadlessOAuthProvider } from './headless-oauth.ts';

export type ScenarioContext = Record<string, unknown>;

/**
 * How the conformance client authenticates for a scenario: the SDK's providers for the
 * machine-to-machine grants the context carries credentials for, the headless OAuth client
 * (with DPoP for the dpop scenarios) otherwise. McpConnection takes any of them as is.
 */
export function scenarioAuth(
  scenario: string,
  context: ScenarioContext,
): Pick<HttpServerConfig, 'auth' | 'authorizationCallback'> {
  const text = (key: string) =>
    typeof context[key] === 'string' ? (context[key] as string) : undefined;
  const required = (key: string) => {
    const value = text(key);
    if (value === undefined) throw new Error(`the scenario context has no ${key}`);
    return value;
  };
  switch (scenario) {
    case 'auth/client-credentials-basic':
      return {
        auth: new ClientCredentialsProvider({
          clientId: required('client_id'),
          clientSecret: required('client_secret'),
        }),
      };
    case 'auth/client-credentials-jwt':
      return {
        auth: new PrivateKeyJwtProvider({
          clientId: required('client_id'),
          privateKey: required('private_key_pem'),
          algorithm: text('signing_algorithm') ?? 'ES256',
        }),
      };
    case 'auth/enterprise-managed-authorization':
    case 'auth/cross-app-access-complete-flow': // its name before 0.2
      return {
        auth: new CrossAppAccessProvider({
          clientId: required('client_id'),
          clientSecret: required('client_secret'),
          assertion: async (ctx) =>
            (
              await requestJwtAuthorizationGrant({
                tokenEndpoint: required('idp_token_endpoint'),
                audience: ctx.authorizationServerUrl,
                resource: ctx.resourceUrl,
                idToken: required('idp_id_token'),
                clientId: required('idp_client_id'),
                ...(ctx.scope ? { scope: ctx.scope } : {}),
                fetchFn: ctx.fetchFn,
              })
            ).jwtAuthGrant,
        }),
      };
    case 'auth/wif-jwt-bearer':
      return { auth: new JwtBearerProvider(required('client_id'), required('valid_jwt')) };
  }
  const clientId = text('client_id');
  const clientSecret = text('client_secret');
  const provider = new HeadlessOAuthProvider({
    clientName: 'agentd-conformance',
    clientMetadataUrl: 'https://conformance-test.local/client-metadata.json',
    dpop: scenario.startsWith('auth/dpop'),
    ...(clientId
      ? {
          preregistered: {
            client_id: clientId,
            ...(clientSecret ? { client_secret: clientSecret } : {}),
          },
        }
      : {}),
  });
  return { auth: provider, authorizationCallback: () => provider.authorizationCallback() };
}

/** RFC 7523 JWT bearer grant with a workload identity token (no user, no redirect). */
class JwtBearerProvider implements OAuthClientProvider {
  readonly #clientId: string;
  readonly #assertion: string;
  #tokens: StoredOAuthTokens | undefined;

  constructor(clientId: string, assertion: string) {
    this.#clientId = clientId;
    this.#assertion = assertion;
  }

  get redirectUrl(): undefined {
    return undefined;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'agentd-conformance-workload',
      redirect_uris: [],
      grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation(): StoredOAuthClientInformation {
    return { client_id: this.#clientId };
  }

  tokens(): StoredOAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.#tokens = tokens;
  }

  redirectToAuthorization(): void {
    throw new Error('the JWT bearer grant has no authorization redirect');
  }

  saveCodeVerifier(): void {}

  codeVerifier(): string {
    return '';
  }

  prepareTokenRequest(scope?: string): URLSearchParams {
    return new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: this.#assertion,
      ...(scope ? { scope } : {}),
    });
  }
}
