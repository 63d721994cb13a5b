/**
 * A caller that did not prove who it is (HTTP 401). The reason is safe to show: it names what was
 * wrong with the proof (expired, wrong audience, unknown key), never the proof itself.
 */
export class AuthenticationError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "AuthenticationError";
  }
}

export function refuse(reason: string): never {
  throw new AuthenticationError(reason);
}
