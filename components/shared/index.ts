// Pure helpers every folder may import: value validators, the one shell-quoting path, the SSH connection.
export * from "./checked";
export * from "./ipv6";
export * from "./shell";
export * from "./ssh";
export * from "./validate";
