import { test } from "node:test";
import assert from "node:assert/strict";
import { sgOpenings } from "./exposure";

test("the rules that open a selected port, in any group, for any source", () => {
  const groups = [
    { GroupId: "sg-1", IpPermissions: [{ IpProtocol: "tcp", FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: "10.0.0.0/8" }] }] },
    { GroupId: "sg-2", IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] },
    { GroupId: "sg-3", IpPermissions: [{ IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: "sg-3" }] }] },
  ];
  assert.deepEqual(
    sgOpenings(groups, [{ number: 22, protocol: "TCP" }]).map((o) => o.groupId),
    ["sg-1", "sg-3"],
  );
  assert.deepEqual(sgOpenings(groups, [{ number: 53, protocol: "UDP" }]).map((o) => o.groupId), ["sg-3"]);
  assert.deepEqual(sgOpenings(groups, []), []);
});
