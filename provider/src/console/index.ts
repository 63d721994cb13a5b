export { Console, ConsoleOptions, isConsolePath } from "./console";
export { AzureSignInOptions } from "./azure-signin";
