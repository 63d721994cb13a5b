/**
 * An error the emulated service answers with. The SDK turns `code` into the thrown error's `name`
 * (EC2) or looks it up in its error registry (STS, IAM: `NoSuchEntity` becomes
 * `NoSuchEntityException`), so codes are spelled exactly as the real services spell them.
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const notFound = (code: string, what: string, id: string): AwsError => new AwsError(code, `The ${what} '${id}' does not exist`);
