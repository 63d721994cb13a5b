import type { Principal, Principals } from "./principals";
import type { QueryNode } from "./query";
import type { Ec2State } from "./state";
import type { XmlObject } from "./xml";

export interface Context {
  state: Ec2State;
  principals: Principals;
  /** Who signed the request. */
  caller: Principal;
}

/**
 * One action of one service: whether the real cloud would count it as a change, and how it
 * answers. `handle` runs to the end without yielding, so every call is atomic, as the cloud's own
 * calls are: it validates everything first and then changes state, or throws an `AwsError` having
 * changed nothing.
 */
export interface Operation {
  write: boolean;
  handle(ctx: Context, req: QueryNode): XmlObject;
}
