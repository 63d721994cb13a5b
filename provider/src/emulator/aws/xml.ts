/**
 * XML for AWS Query responses. Members are written in the order given, `undefined` is left out, and
 * every list is a wrapper element around one child per item: `<groupSet><item>…</item></groupSet>`
 * in EC2, `<EvaluationResults><member>…</member></EvaluationResults>` in IAM and STS. An empty list
 * is still written (`<ipRanges/>`), as EC2 does for the lists it always returns.
 */
export type XmlValue = string | number | boolean | undefined | XmlValue[] | XmlObject;
export interface XmlObject {
  [element: string]: XmlValue;
}

const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => entities[c]);
}

function element(name: string, value: XmlValue, listItem: string): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) {
    const items = value.map((item) => element(listItem, item, listItem)).join("");
    return items ? `<${name}>${items}</${name}>` : `<${name}/>`;
  }
  if (typeof value === "object") return `<${name}>${xmlElements(value, listItem)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function xmlElements(members: XmlObject, listItem: string): string {
  return Object.entries(members)
    .map(([name, value]) => element(name, value, listItem))
    .join("");
}
