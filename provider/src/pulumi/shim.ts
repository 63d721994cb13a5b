import type * as pulumi from "@pulumi/pulumi";
import type { Cloud } from "../model";

/**
 * The module the shims load at run time. It is resolved from the Pulumi program's own
 * node_modules, as the engine's dynamic-provider host resolves every require of a serialised
 * provider; a program that uses pulumi-jit has it there.
 */
const RUNTIME = "pulumi-jit/pulumi-runtime";

/**
 * The provider object Pulumi serialises into state for every JitPolicy: a few lines that hand
 * each call to the installed pulumi-jit. It captures nothing but the cloud's name, so it holds no
 * client, credential or configuration, and it stays the same across pulumi-jit versions.
 */
export function policyProviderShim(cloud: Cloud): pulumi.dynamic.ResourceProvider {
  return {
    async check(_olds, news) {
      return require(RUNTIME).check(cloud, news);
    },
    async diff(_id, olds, news) {
      return require(RUNTIME).diff(olds, news);
    },
    async create(inputs) {
      return require(RUNTIME).create(cloud, inputs);
    },
    async read(id, props) {
      return require(RUNTIME).read(cloud, id, props);
    },
    async update(_id, olds, news) {
      return require(RUNTIME).update(cloud, olds, news);
    },
    async delete(_id, props) {
      return require(RUNTIME).remove(cloud, props);
    },
  };
}
