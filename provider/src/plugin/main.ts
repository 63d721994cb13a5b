// The `pulumi-resource-pulumi-jit` plugin's entry point; the engine starts it with its own address
// (and logging flags, which the SDK strips) as arguments.
import { serve } from "./server";

serve(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`pulumi-resource-pulumi-jit: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
