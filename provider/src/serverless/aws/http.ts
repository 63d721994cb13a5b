import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { z } from "zod";
import { Broker, BrokerCaller, BrokerResponse, jsonBody, principalOfArn } from "../../broker";
import { brokerFor, lazyValue } from "../config";
import { awsContext, awsEnv } from "./runtime";

/**
 * The broker behind a Lambda function URL or an API Gateway HTTP API (payload format 2.0): the
 * event becomes a broker request and the broker's answer the response. With IAM auth AWS has
 * verified the caller's SigV4 signature and names the caller in `requestContext.authorizer.iam`;
 * the broker takes that identity. Without it, callers prove who they are to the broker itself
 * (`Authorization: JIT-AWS-STS …` or an Entra ID bearer token), as with `jit serve`.
 */
const HttpEvent = z.object({
  rawPath: z.string().max(2048),
  rawQueryString: z.string().max(8192).default(""),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.object({
    http: z.object({ method: z.string().max(16), sourceIp: z.string().max(64) }),
    authorizer: z.object({ iam: z.object({ userArn: z.string().max(2048) }).optional() }).optional(),
  }),
});
export type HttpEvent = z.input<typeof HttpEvent>;

const broker = lazyValue(async (): Promise<Broker> => brokerFor(await awsContext(), awsEnv()));

export async function handler(input: unknown): Promise<APIGatewayProxyStructuredResultV2> {
  const parsed = HttpEvent.safeParse(input);
  if (!parsed.success) return responseOf({ status: 400, body: { error: { code: "InvalidInput", message: "not an HTTP event (payload format 2.0)" } }, headers: {} });
  const event = parsed.data;
  const b = await broker();
  const userArn = event.requestContext.authorizer?.iam?.userArn;
  const caller: BrokerCaller | undefined = userArn ? { principal: principalOfArn(userArn), mode: "brokered", cloud: "aws" } : undefined;
  const answer = await b.dispatch({
    method: event.requestContext.http.method.toUpperCase(),
    url: event.rawPath + (event.rawQueryString ? `?${event.rawQueryString}` : ""),
    // Under IAM auth the Authorization header is the signature AWS already checked.
    authorization: caller ? undefined : event.headers.authorization,
    peer: event.requestContext.http.sourceIp,
    ...(caller ? { caller } : {}),
    body: async () => jsonBody(Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8"), event.headers["content-type"], b.limits.maxBodyBytes),
  });
  return responseOf(answer);
}

function responseOf(answer: BrokerResponse): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: answer.status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...answer.headers },
    body: JSON.stringify(answer.body),
  };
}
