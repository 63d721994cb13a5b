/** Tag keys and values on what pulumi-jit creates in EC2, so that it can be found again without the ledger. */
export const TAG_GRANT = "pulumi-jit:grant";
export const TAG_POLICY = "pulumi-jit:policy";
export const TAG_INSTANCE = "pulumi-jit:instance";
export const TAG_EXPIRES_AT = "pulumi-jit:expires-at";
export const TAG_ROLE = "pulumi-jit:role";
/** `TAG_ROLE` of a group that holds grants' rules. */
export const GRANT_GROUP_ROLE = "grant-group";
/** `TAG_ROLE` of a narrower rule the baseline put in place of a wider one. */
export const BASELINE_SPLIT_ROLE = "baseline-split";
