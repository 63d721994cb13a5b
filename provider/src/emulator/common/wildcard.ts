const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * `*` (any run of characters) and `?` (any one character), as both EC2 filter values and IAM
 * policy elements use them. EC2 also lets a backslash make the next character literal.
 */
export function wildcard(pattern: string, options: { backslashEscapes: boolean; ignoreCase: boolean }): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (options.backslashEscapes && c === "\\" && i + 1 < pattern.length) source += literal(pattern[++i]);
    else source += c === "*" ? ".*" : c === "?" ? "." : literal(c);
  }
  return new RegExp(`^${source}$`, options.ignoreCase ? "is" : "s");
}
