/**
 * Credentials as clients present them, for REST (Authorization header) and gRPC (authorization
 * metadata) alike.
 */

/** The token of an `Authorization: Bearer <token>` value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}
