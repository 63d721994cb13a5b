import { AwsError } from "./errors";

/**
 * A form-encoded AWS Query request body as a tree. The wire flattens structures and lists into
 * dotted names (`IpPermissions.1.IpRanges.2.CidrIp` in EC2, `ActionNames.member.1` in awsQuery);
 * splitting on the dots gives one node per segment, and a list is a node whose children are
 * numbered from 1.
 */
export class QueryNode {
  private readonly children = new Map<string, QueryNode>();
  private text: string | undefined;

  static parse(body: Buffer | string): QueryNode {
    const root = new QueryNode();
    for (const [name, value] of new URLSearchParams(body.toString("utf8"))) {
      let node: QueryNode = root;
      for (const segment of name.split(".")) {
        let next = node.children.get(segment);
        if (!next) {
          next = new QueryNode();
          node.children.set(segment, next);
        }
        node = next;
      }
      node.text = value;
    }
    return root;
  }

  private node(path: string): QueryNode | undefined {
    let node: QueryNode | undefined = this;
    for (const segment of path.split(".")) node = node?.children.get(segment);
    return node;
  }

  /** The structure at `path` (empty when the request has none). */
  at(path: string): QueryNode {
    return this.node(path) ?? new QueryNode();
  }

  has(path: string): boolean {
    return this.node(path) !== undefined;
  }

  str(path: string): string | undefined {
    return this.node(path)?.text;
  }

  required(path: string): string {
    const value = this.str(path);
    if (value === undefined || value === "") {
      throw new AwsError("MissingParameter", `The request must contain the parameter ${path}`);
    }
    return value;
  }

  int(path: string): number | undefined {
    const value = this.str(path);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value)) throw new AwsError("InvalidParameterValue", `Value (${value}) for parameter ${path} is invalid. Expecting an integer.`);
    return Number(value);
  }

  bool(path: string): boolean {
    return this.str(path)?.toLowerCase() === "true";
  }

  /** The items of the list at `path`, in index order (`path.1`, `path.2`, ...). */
  list(path: string): QueryNode[] {
    const node = this.node(path);
    if (!node) return [];
    return [...node.children.entries()]
      .filter(([index]) => /^[1-9]\d*$/.test(index))
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, item]) => item);
  }

  strings(path: string): string[] {
    return this.list(path).flatMap((item) => (item.text === undefined ? [] : [item.text]));
  }
}
