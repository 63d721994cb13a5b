/**
 * AWS has no JIT action of its own. In direct mode the requester's credentials write, so we ask for
 * the right to read the instance, to open a port in a security group, and to change the groups of
 * its interfaces: a grant that joins an existing grant group only authorizes a rule, one that needs
 * a new group also attaches it, so without either right a request would fail half-way rather than
 * be refused up front. Through the broker the caller needs no EC2 right at all; the policy's
 * `requesters` decide alone (an empty list here says so).
 */
export const AWS_REQUEST_ACTIONS = {
  direct: ["ec2:DescribeInstances", "ec2:AuthorizeSecurityGroupIngress", "ec2:ModifyNetworkInterfaceAttribute"],
  brokered: [],
} as const;
