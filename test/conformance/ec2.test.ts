import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ADDED_SINCE, compareTrees, Ec2Outcome, KNOWN_DIFFERENCES, replayAll } from "./ec2-replay";

/**
 * The local EC2 endpoint against EC2 responses recorded in botocore's tests and the EC2 API's and
 * the AWS CLI's documented examples: at least 95 % of the in-scope exchanges conform, and every one that
 * does not is listed, with its reason, in KNOWN_DIFFERENCES.
 */
describe("conformance of the EC2 endpoint to recorded and documented EC2 exchanges", () => {
  let outcomes: Ec2Outcome[];
  before(async () => {
    outcomes = await replayAll();
  });

  it("replays every recorded response, error and documented example", () => {
    assert.ok(outcomes.length >= 60, `only ${outcomes.length} exchanges replayed`);
    for (const source of ["responses/", "errors/", "examples-1.json#", "aws-cli/"]) assert.ok(outcomes.some((o) => o.where.startsWith(source)), source);
  });

  it("at least 95 % conform, and the rest are exactly the listed known differences", () => {
    const failing = outcomes.filter((o) => o.differences.length > 0);
    const report = failing.map((o) => `${o.where} ${o.request}: ${o.differences.join("; ")}`).join("\n");
    assert.deepEqual(failing.map((o) => o.where).sort(), Object.keys(KNOWN_DIFFERENCES).sort(), `differences not (or no longer) listed:\n${report}`);
    for (const o of failing) assert.deepEqual(o.differences, KNOWN_DIFFERENCES[o.where].differences, o.where);
    const conforming = outcomes.length - failing.length;
    assert.ok(conforming / outcomes.length >= 0.95, `${conforming}/${outcomes.length} conform`);
  });
});

describe("the EC2 comparison rules", () => {
  const xml = { extrasCompared: true, assigned: ["groupId"], apiVersion: "2014-06-15" };

  it("compares recorded elements by value, and assigned ids by their form only", () => {
    assert.deepEqual(compareTrees({ groupId: "sg-903004f8", groupName: "web" }, { groupId: "sg-0123456789abcdef0", groupName: "web" }, xml), []);
    assert.deepEqual(compareTrees({ groupId: "sg-903004f8" }, { groupId: "vpc-0123456789abcdef0" }, xml), ['$.groupId: recorded "sg-903004f8", answered "vpc-0123456789abcdef0"']);
    assert.deepEqual(compareTrees({ groupName: "web" }, { groupName: "db" }, xml), ['$.groupName: recorded "web", answered "db"']);
    assert.deepEqual(compareTrees({ a: { item: [{ b: "1" }] } }, { a: "" }, xml), ['$.a: recorded {"item":[{"b":"1"}]}, answered ""']);
  });

  it("answered elements a recording lacks fail unless EC2 added them since; documentation examples show a part", () => {
    assert.ok(ADDED_SINCE.securityGroupArn);
    assert.deepEqual(compareTrees({ groupName: "web" }, { groupName: "web", securityGroupArn: "arn" }, xml), []);
    assert.deepEqual(compareTrees({ groupName: "web" }, { groupName: "web", flavour: "x" }, xml), ["$.flavour: answered, not recorded"]);
    assert.deepEqual(compareTrees({ GroupName: "web" }, { GroupName: "web", Flavour: "x" }, { extrasCompared: false, assigned: [] }), []);
    assert.deepEqual(compareTrees({ GroupName: "web", Vpc: "v" }, { GroupName: "web" }, { extrasCompared: false, assigned: [] }), ["$.Vpc: recorded, not answered"]);
  });

  it("skips what instances do not model, and accepts an older recording's empty private DNS name only for older API versions", () => {
    const recorded = { instancesSet: { item: [{ kernelId: "aki-1", privateDnsName: "" }] } };
    const answered = { instancesSet: { item: [{ privateDnsName: "ip-10-0-0-4.ec2.internal" }] } };
    assert.deepEqual(compareTrees(recorded, answered, xml), []);
    assert.deepEqual(compareTrees(recorded, answered, { ...xml, apiVersion: "2016-11-15" }), ['$.instancesSet.item[0].privateDnsName: recorded "", answered "ip-10-0-0-4.ec2.internal"']);
    assert.deepEqual(compareTrees({ kernelId: "aki-1" }, {}, xml), ["$.kernelId: recorded, not answered"]);
  });
});
