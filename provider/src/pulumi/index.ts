export * as azure from "./azure";
export * as aws from "./aws";
