/** pulumi-jit: just-in-time network access to Azure and AWS virtual machines, as Pulumi code. */
export {};
