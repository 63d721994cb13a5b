// Commander is published as ES modules only. Loading ES modules from CommonJS starts Node's ESM
// loader, which alone costs a third of a bare `node` start on every `jit` command; the build
// (scripts/build.js) therefore replaces this file's compiled form with commander bundled as one
// CommonJS file. The CLI imports commander only through here, so that it loads that bundle.
export * from "commander";
