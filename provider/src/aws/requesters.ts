import type { Principal } from "../driver";
import { globMatches } from "../util/glob";

const ARN = /^arn:([^:]{1,32}):(iam|sts)::(\d{12}):(.{1,1024})$/;
const SESSION = /^assumed-role\/([^/]{1,128})\/(.{1,128})$/;

/**
 * Whether an entry of a policy's `requesters` (an IAM ARN, `*` and `?` allowed) names the caller,
 * whose ARN is what STS GetCallerIdentity returned. Users, roles and account roots match their own
 * ARN. A role session (`arn:aws:sts::A:assumed-role/R/S`) matches its session ARN, and any role
 * entry (`arn:aws:iam::A:role/<path>/R`) whose account and name match: session ARNs never carry
 * the role's path, and a role's name is unique in its account whatever its path, so IAM Identity
 * Center roles (`role/aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_…`) can be listed as
 * IAM shows them. A wildcard in such an entry therefore matches by name, not by path.
 */
export function awsRequesterMatches(listed: string, principal: Principal): boolean {
  if (globMatches(listed, principal.id)) return true;
  const caller = ARN.exec(principal.id);
  const session = caller && caller[2] === "sts" ? SESSION.exec(caller[4]) : null;
  const entry = ARN.exec(listed);
  if (!caller || !session || !entry || entry[2] !== "iam" || !entry[4].startsWith("role/")) return false;
  const name = entry[4].slice(entry[4].lastIndexOf("/") + 1);
  return globMatches(entry[1], caller[1]) && globMatches(entry[3], caller[3]) && globMatches(name, session[1]);
}
