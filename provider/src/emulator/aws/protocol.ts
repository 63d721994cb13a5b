import { randomUUID } from "node:crypto";
import type { EmulatorRequest, EmulatorResponse } from "../common";
import { parseAuthorization } from "./sigv4";
import { xmlElements, XmlObject, escapeXml } from "./xml";

/**
 * The three AWS Query dialects the endpoint speaks. EC2 ("ec2Query") answers
 * `<{Action}Response><requestId>` with `item` lists and errors in `<Response><Errors>`; STS and IAM
 * ("awsQuery") wrap results in `<{Action}Result>` with `member` lists and errors in `<ErrorResponse>`.
 */
export type ServiceName = "ec2" | "sts" | "iam";

interface Dialect {
  version: string;
  xmlns: string;
  listItem: string;
}

const dialects: Record<ServiceName, Dialect> = {
  ec2: { version: "2016-11-15", xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/", listItem: "item" },
  sts: { version: "2011-06-15", xmlns: "https://sts.amazonaws.com/doc/2011-06-15/", listItem: "member" },
  iam: { version: "2010-05-08", xmlns: "https://iam.amazonaws.com/doc/2010-05-08/", listItem: "member" },
};

/**
 * Which service a request is for: the one it was signed for, as a shared endpoint tells them apart;
 * an unsigned request by its `Version`.
 */
export function serviceOf(req: EmulatorRequest, version: string | undefined): ServiceName {
  const signed = parseAuthorization(req.headers.authorization)?.service;
  const known = (Object.keys(dialects) as ServiceName[]).find((s) => (signed ? s === signed : dialects[s].version === version));
  return known ?? "ec2";
}

function xmlResponse(status: number, requestId: string, body: string): EmulatorResponse {
  return {
    status,
    headers: { "content-type": "text/xml;charset=UTF-8", "x-amzn-requestid": requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
  };
}

export function renderResult(service: ServiceName, action: string, result: XmlObject): EmulatorResponse {
  const { xmlns, listItem } = dialects[service];
  const requestId = randomUUID();
  const members = xmlElements(result, listItem);
  const inner =
    service === "ec2"
      ? `<requestId>${requestId}</requestId>${members}`
      : `<${action}Result>${members}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`;
  return xmlResponse(200, requestId, `<${action}Response xmlns="${xmlns}">${inner}</${action}Response>`);
}

export function renderError(service: ServiceName, code: string, message: string, status: number, headers: Record<string, string> = {}): EmulatorResponse {
  const requestId = randomUUID();
  const text = `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>`;
  const body =
    service === "ec2"
      ? `<Response><Errors><Error>${text}</Error></Errors><RequestID>${requestId}</RequestID></Response>`
      : `<ErrorResponse xmlns="${dialects[service].xmlns}"><Error><Type>${status >= 500 ? "Receiver" : "Sender"}</Type>${text}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  const out = xmlResponse(status, requestId, body);
  return { ...out, headers: { ...out.headers, ...headers } };
}
