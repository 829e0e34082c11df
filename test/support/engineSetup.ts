// Builds the engine once before the engine tests (or finds it cached), and says which.
import { ensureEngine } from "../../engine/build";

export default function setup(): void {
    ensureEngine((line) => console.log(line));
}
