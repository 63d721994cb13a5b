import { AwsError } from "./errors";
import type { QueryNode } from "./query";
import type { Tags } from "./state";
import { wildcard } from "../common/wildcard";

/**
 * What every EC2 Describe* call shares: `Filter.N.Name`/`Filter.N.Value.M` (filters AND together,
 * the values of one filter OR; `*` and `?` are wildcards; `tag:<key>` and `tag-key` on every
 * taggable resource), and `MaxResults`/`NextToken` paging.
 */
type FilterValue = string | number | boolean | undefined;

export interface Filterable<T> {
  /** The values an item has for each filter name EC2 documents for the call (the ones modelled). */
  fields: Record<string, (item: T) => FilterValue | FilterValue[]>;
  tags: (item: T) => Tags;
}

function extractor<T>(name: string, spec: Filterable<T>): (item: T) => string[] {
  if (name.startsWith("tag:")) {
    const key = name.slice(4);
    return (item) => {
      const value = spec.tags(item).get(key);
      return value === undefined ? [] : [value];
    };
  }
  if (name === "tag-key") return (item) => [...spec.tags(item).keys()];
  const field = Object.hasOwn(spec.fields, name) ? spec.fields[name] : undefined;
  if (!field) throw new AwsError("InvalidParameterValue", `The filter '${name}' is invalid`);
  return (item) => {
    const raw = field(item);
    return (Array.isArray(raw) ? raw : [raw]).flatMap((v) => (v === undefined ? [] : [String(v)]));
  };
}

export function applyFilters<T>(items: T[], req: QueryNode, spec: Filterable<T>): T[] {
  const filters = req.list("Filter").map((f) => ({ values: extractor(f.required("Name"), spec), patterns: f.strings("Value").map((v) => wildcard(v, { backslashEscapes: true, ignoreCase: false })) }));
  return items.filter((item) => filters.every(({ values, patterns }) => values(item).some((v) => patterns.some((p) => p.test(v)))));
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/**
 * One page of `items`. EC2 takes MaxResults from 5 to 1000 and, on most calls, refuses it together
 * with a list of ids (`idsParameter`). A token is good only for the call that issued it.
 */
export function paginate<T>(items: T[], req: QueryNode, action: string, idsParameter?: string): Page<T> {
  const maxResults = req.int("MaxResults");
  const token = req.str("NextToken");
  if (maxResults === undefined && token === undefined) return { items };
  if (idsParameter && req.list(idsParameter).length > 0) {
    throw new AwsError("InvalidParameterCombination", `The parameter ${idsParameter} cannot be used with the parameter maxResults`);
  }
  const size = maxResults ?? 1000;
  if (size < 5 || size > 1000) {
    throw new AwsError("InvalidParameterValue", `Value ( ${size} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
  }
  let offset = 0;
  if (token !== undefined) {
    const [tokenAction, at] = Buffer.from(token, "base64url").toString("utf8").split(":");
    offset = Number(at);
    if (tokenAction !== action || !Number.isInteger(offset) || offset < 0) throw new AwsError("InvalidPaginationToken", `Invalid pagination token: ${token}`);
  }
  const end = offset + size;
  return { items: items.slice(offset, end), nextToken: end < items.length ? Buffer.from(`${action}:${end}`).toString("base64url") : undefined };
}
