// An EC2 instance whose SSH port is locked by a pulumi-jit policy. Its security group opens 22 to
// the world and every TCP port to private addresses; the policy revokes the first rule and splits
// the second around 22 (so 0-21 and 23-65535 stay open), and `jit request` opens 22 for one address
// for a while by attaching a security group of its own.
import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import * as jit from "pulumi-jit";

const config = new pulumi.Config();
/** The SSH public key to log in with (an OpenSSH `ssh-ed25519 …` or `ssh-rsa …` line). */
const sshPublicKey = config.require("sshPublicKey");
const instanceType = config.get("instanceType") ?? "t3.micro";
/** Who may ask for SSH: CIDR blocks such as your office range. Unset, any source may be requested. */
const allowedSourcePrefixes = config.getObject<string[]>("allowedSourcePrefixes");
const maxAccess = config.get("maxAccess") ?? "PT3H";
/** Requests name the policy; one per stack, as policy names are unique in a ledger. */
const policyName = config.get("policyName") ?? `${pulumi.getProject()}-${pulumi.getStack()}`;

// A small public network of its own, so that the example does not depend on a default VPC.
const vpc = new ec2.Vpc("jit-example", { cidrBlock: "10.0.0.0/16", enableDnsHostnames: true, tags: { Name: "jit-example" } });
const gateway = new ec2.InternetGateway("jit-example", { vpcId: vpc.id });
const subnet = new ec2.Subnet("public", { vpcId: vpc.id, cidrBlock: "10.0.1.0/24", mapPublicIpOnLaunch: true });
const routes = new ec2.RouteTable("public", { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }] });
new ec2.RouteTableAssociation("public", { subnetId: subnet.id, routeTableId: routes.id });

// The rules the JIT policy works on. `ignoreChanges: ["ingress"]`: once the policy has revoked the
// SSH rule and split the wide one, a `pulumi refresh` records that, and without it the next
// `pulumi up` would put the original rules back and open port 22 again (see README.md).
const group = new ec2.SecurityGroup(
  "web",
  {
    vpcId: vpc.id,
    description: "SSH from anywhere and all TCP from private addresses; pulumi-jit locks 22",
    ingress: [
      { description: "SSH from anywhere", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] },
      { description: "All TCP from private addresses", protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["10.0.0.0/8"] },
    ],
    egress: [{ description: "Anywhere", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
  },
  { ignoreChanges: ["ingress"] },
);

const ami = ec2.getAmiOutput({
  owners: ["amazon"],
  mostRecent: true,
  filters: [
    { name: "name", values: ["al2023-ami-2023.*-x86_64"] },
    { name: "architecture", values: ["x86_64"] },
  ],
});

const key = new ec2.KeyPair("admin", { publicKey: sshPublicKey });

const instance = new ec2.Instance("web", {
  ami: ami.id,
  instanceType,
  subnetId: subnet.id,
  vpcSecurityGroupIds: [group.id],
  keyName: key.keyName,
  tags: { Name: "jit-example" },
});

// The policy: port 22 of the instance, TCP, requested from the allowed prefixes for at most
// `maxAccess`. The instance's only security group is not shared, so it is changed; a group that
// other instances use would be reported and left alone (see `allowSharedSecurityGroups`).
const policy = new jit.aws.JitPolicy("ssh", {
  policyName,
  virtualMachines: [
    {
      id: instance.id,
      ports: [
        {
          number: 22,
          protocol: "TCP",
          ...(allowedSourcePrefixes ? { allowedSourceAddressPrefixes: allowedSourcePrefixes } : {}),
          maxRequestAccessDuration: maxAccess,
        },
      ],
    },
  ],
});

export const instanceId = instance.id;
export const publicIp = instance.publicIp;
export const jitPolicyName = policy.policyName;
/** The ingress rules the policy revoked or split. */
export const revokedRules = policy.rules;
/** Per instance: protected, exposed (by which rule), or not applicable. */
export const protection = policy.vms;
/** Opens SSH from your public address for an hour. */
export const jitRequest = pulumi.interpolate`jit request --policy ${policy.policyName} --vm ${instance.id} --port 22 --duration PT1H --justification "maintenance"`;
export const sshCommand = pulumi.interpolate`ssh ec2-user@${instance.publicIp}`;
