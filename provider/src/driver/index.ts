export * from "./cloud-driver";
