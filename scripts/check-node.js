// npm runs scripts with node_modules/.bin first on PATH, so `node` here is the Node 22 that the
// `node` devDependency installs, even where the system Node is older. Fail early and clearly if not.
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  console.error(`pulumi-jit needs Node.js 22 or newer; this is ${process.version}. Run \`npm ci\` first: it installs Node 22 as a devDependency.`);
  process.exit(1);
}
console.log(`pulumi-jit tests on Node.js ${process.version}`);
