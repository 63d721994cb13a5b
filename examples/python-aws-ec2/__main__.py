"""An EC2 instance whose SSH port pulumi-jit keeps closed until someone asks for it."""

import pulumi
import pulumi_aws as aws
import pulumi_jit as jit

config = pulumi.Config()
source_prefix = config.get("sourcePrefix") or "203.0.113.0/24"
ops_role_arn = config.require("opsRoleArn")

ami = aws.ec2.get_ami(
    most_recent=True,
    owners=["amazon"],
    filters=[aws.ec2.GetAmiFilterArgs(name="name", values=["al2023-ami-2023.*-x86_64"])],
)

# SSH open to the world: the kind of group pulumi-jit is adopted on.
group = aws.ec2.SecurityGroup(
    "web",
    description="web server",
    ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=22, to_port=22, cidr_blocks=["0.0.0.0/0"])],
    egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"])],
)

instance = aws.ec2.Instance(
    "web",
    ami=ami.id,
    instance_type=config.get("instanceType") or "t3.micro",
    vpc_security_group_ids=[group.id],
    tags={"Name": "jit-python-aws-ec2"},
)

# The provider's settings. Credentials are never settings: the plugin uses the AWS default chain.
provider = jit.Provider("jit", aws_region=aws.get_region().region)

# Revokes the SSH rule (recording it) until the policy is deleted; `jit request` opens 22 for a while.
policy = jit.aws.JitPolicy(
    "web",
    policy_name="web",
    virtual_machines=[
        jit.aws.JitInstanceArgs(
            id=instance.id,
            ports=[
                jit.PortRuleArgs(
                    number=22,
                    protocol=jit.Protocol.TCP,
                    allowed_source_address_prefix=source_prefix,
                    max_request_access_duration="PT1H",
                )
            ],
        )
    ],
    requesters=[ops_role_arn],
    opts=pulumi.ResourceOptions(provider=provider),
)

# The IAM policy with exactly what `jit request` needs on this instance, attached to the ops role.
request_policy = jit.aws.JitRolePolicy(
    "requesters",
    kind=jit.RoleKind.REQUEST,
    instance_arns=[instance.arn],
    role=ops_role_arn.split("/")[-1],
    opts=pulumi.ResourceOptions(provider=provider),
)

# Read-only: functions run during preview too, so none of them opens anything.
grants = jit.list_grants_output(policy=policy.policy_name, states=["active"], opts=pulumi.InvokeOutputOptions(provider=provider))

pulumi.export("instanceId", instance.id)
pulumi.export("revokedRules", policy.rules)
pulumi.export("protection", policy.vms)
pulumi.export("requestPolicyArn", request_policy.policy_arn)
pulumi.export("activeGrants", grants.grants)
