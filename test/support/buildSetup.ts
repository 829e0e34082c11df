// The program runs from dist/ (Pulumi.yaml main) and refuses a stale build: the suites that
// evaluate it build first, as `npm ci` and `npm run build` do (JavaScript only, well under a second).
import * as path from "path";
import { buildJs } from "../../scripts/build";

export default function setup(): void {
    buildJs(path.resolve(__dirname, "../.."));
}
